
// Added by scripts/build_site.py: the packages are installed from a fixed list (the site's own stripped wheels,
// pinned to the versions the tests ran, and Pyodide's builds), nothing is resolved at visit time, and a failed
// install stops here with a message that says what failed.
const LOCK_PACKAGES = __LOCK_PACKAGES__;
const SITE_WHEELS = __WHEELS__;
let pageReadyResolve;
const pageReady = new Promise((resolve) => { pageReadyResolve = resolve; });
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "start") {
    self.pageLocation = event.data.location;
    pageReadyResolve();
  }
});

function canonicalName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

async function installPackages(pyodide) {
  const urls = SITE_WHEELS.map((file) => new URL(file, self.location.href).href);
  const wanted = [...LOCK_PACKAGES, ...SITE_WHEELS.map((file) => file.split("/").pop().split("-")[0])];
  const errors = [];
  let loaded = [];
  try {
    loaded = await pyodide.loadPackage([...LOCK_PACKAGES, ...urls], {
      messageCallback: () => {},
      errorCallback: (message) => errors.push(message),
    });
  } catch (e) {
    errors.push(`${e}`);
  }
  const have = new Set((loaded || []).map((p) => canonicalName(p.name)));
  const missing = wanted.filter((name) => !have.has(canonicalName(name)));
  if (missing.length || errors.length) {
    const what = missing.length ? missing.join(", ") : "some packages";
    const why = errors.length ? ` (${errors[0].split("\n")[0]})` : "";
    throw new Error(`Could not install ${what}${why}. Check the connection and try again.`);
  }
}
