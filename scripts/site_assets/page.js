// Static site, page side (added by scripts/build_site.py): the loading badge, when the Python worker starts,
// and the assets the live document asks for served from the site itself instead of Panel's CDN.
(function () {
  "use strict";
  const CONFIG = __CONFIG__;
  const badge = document.getElementById("loader");
  const msg = document.getElementById("loader-msg");
  const step = document.getElementById("loader-step");
  const err = document.getElementById("loader-error");
  const bar = badge.querySelector("progress");
  const retry = document.getElementById("loader-retry");
  let worker = null;
  let activeTabs = [];

  function stageIndex(text) {
    return CONFIG.stages.findIndex((s) => text.startsWith(s));
  }
  window.panelLoader = {
    status(text) {
      badge.hidden = false;
      badge.classList.remove("error");
      retry.hidden = true;
      msg.textContent = text;
      const i = stageIndex(text);
      if (i >= 0) {
        bar.value = i / CONFIG.stages.length;
        step.textContent = `${i + 1}/${CONFIG.stages.length}`;
      }
    },
    error(text) {
      badge.hidden = false;
      badge.classList.add("error");
      err.textContent = text;
      retry.hidden = false;
    },
    hide() {
      badge.hidden = true;
    },
  };

  // The live document's stylesheets point at Panel's CDN: serve them from the site's static/ copy.
  function localise(text) {
    return CONFIG.rewrites.reduce((s, [from, to]) => s.split(from).join(to), text);
  }
  window.dashboardLocalise = localise;
  window.dashboardLocalisePatch = function (patch) {
    const text = JSON.stringify(patch);
    return CONFIG.rewrites.some(([from]) => text.includes(from)) ? JSON.parse(localise(text)) : patch;
  };

  // Which tab the reader opened in the pre-render: the live document opens the same one.
  function tabsModels(doc) {
    // Panel's own Tabs model: its type is qualified by its module ("panel.models.tabs.Tabs")
    return doc ? [...doc.all_models].filter((m) => /(^|\.)Tabs$/.test(m.type)) : [];
  }
  window.dashboardBeforeLive = function () {
    const doc = window.Bokeh?.documents?.[0];
    activeTabs = tabsModels(doc).map((m) => m.active);
  };
  window.dashboardAfterLive = function (jsdoc) {
    dropFirstScreen();
    const tabs = tabsModels(jsdoc);
    tabs.forEach((m, i) => {
      if (activeTabs[i] != null && activeTabs[i] !== m.active) m.active = activeTabs[i];
    });
  };

  function start() {
    if (worker) worker.terminate();
    window.panelLoader.status(CONFIG.stages[0]);
    worker = window.connectDashboardWorker();
    worker.postMessage({ type: "start", location: JSON.stringify(window.location) });
  }
  retry.addEventListener("click", start);

  // Python starts once the pre-rendered charts are drawn and the page is idle, so compiling Pyodide does not
  // compete with the first paint; without BokehJS (blocked, offline) it starts after the page has loaded.
  const t0 = performance.now();
  function drawn() {
    const docs = window.Bokeh?.documents;
    return docs && docs.length > 0 && docs.every((d) => d.is_idle);
  }
  function later(fn) {
    if ("requestIdleCallback" in window) requestIdleCallback(fn, { timeout: 1000 });
    else setTimeout(fn, 50);
  }
  // The static first screen (HTML + SVG) covers the pre-render until Bokeh has drawn it underneath.
  function dropFirstScreen() {
    document.getElementById("first-screen")?.remove();
  }
  function poll() {
    const waited = performance.now() - t0;
    if (drawn()) dropFirstScreen();
    if (drawn() || (document.readyState === "complete" && !window.Bokeh && waited > 3000) || waited > 20000) {
      later(start);
    } else {
      setTimeout(poll, 100);
    }
  }
  window.dashboardStartPython = start;
  poll();
})();
