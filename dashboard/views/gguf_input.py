"""Open a .gguf file and read only its header: the browser slices the File, Python asks for the next slice.

A plain file input would send the whole file to Python (gigabytes); this one reads ``File.slice`` ranges in the
browser, the first :data:`CHUNK_BYTES`, and sends each as base64 until :class:`dashboard.gguf_file.HeaderBuffer`
has the header. The same code runs in the served app (over the websocket) and in the Pyodide build.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import param
from panel.custom import JSComponent

from dashboard.gguf_file import GGUFInfo, HeaderBuffer
from dashboard.ingest import InputError

# 4 MiB per slice: 5.6 MB as base64, under the 20 MB websocket message limit of a default Bokeh server.
CHUNK_BYTES = 4 * 2**20
MAX_FILES = 4


class GGUFFileInput(JSComponent):
    """A file button that reads only the GGUF header of each chosen file (a model, and its mmproj if any)."""

    label = param.String(default="Open a .gguf file", doc="Text of the button.")
    busy = param.Boolean(default=False, doc="True while a file's header is being read.")

    _esm = """
    export function render({ model, el }) {
      const input = document.createElement("input");
      input.type = "file";
      input.accept = ".gguf";
      input.multiple = true;
      input.className = "gguf-file-input";
      input.setAttribute("aria-label", model.label);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "gguf-open bk-btn bk-btn-default";
      button.textContent = model.label;
      button.style.width = "100%";
      input.style.display = "none";
      button.addEventListener("click", () => input.click());
      const files = new Map();
      function send(id, offset, length) {
        const file = files.get(id);
        if (!file) { return; }
        const reader = new FileReader();
        reader.onload = () => {
          const url = String(reader.result);
          model.send_msg({kind: "chunk", id: id, offset: offset, data: url.slice(url.indexOf(",") + 1)});
        };
        reader.onerror = () => model.send_msg({kind: "error", id: id, message: String(reader.error)});
        reader.readAsDataURL(file.slice(offset, offset + length));
      }
      input.addEventListener("change", () => {
        const chosen = Array.from(input.files || []).slice(0, __MAX_FILES__);
        chosen.forEach((file, i) => {
          const id = Date.now() + "-" + i;
          files.set(id, file);
          model.send_msg({kind: "start", id: id, name: file.name, size: file.size});
        });
        input.value = "";
      });
      model.on("msg:custom", (msg) => {
        if (msg.kind === "read") { send(msg.id, msg.offset, msg.length); }
        if (msg.kind === "done") { files.delete(msg.id); }
      });
      model.on("change:busy", () => { button.disabled = model.busy; });
      el.append(button, input);
    }
    """.replace("__MAX_FILES__", str(MAX_FILES))

    def __init__(self, on_header: Callable[[str, int, GGUFInfo | InputError], None], **params: object) -> None:
        super().__init__(**params)
        self._on_header = on_header
        self._readers: dict[str, tuple[str, int, HeaderBuffer]] = {}

    def _handle_msg(self, msg: object) -> None:
        if not isinstance(msg, dict):
            return
        kind, file_id = msg.get("kind"), str(msg.get("id", ""))[:40]
        if kind == "start":
            name = str(msg.get("name", ""))[:200]
            size = msg.get("size")
            if not isinstance(size, int) or size < 0:
                return
            reader = HeaderBuffer(size, CHUNK_BYTES)
            self._readers = {**self._readers, file_id: (name, size, reader)}
            self.busy = True
            offset, length = reader.first_read()
            self._send_msg({"kind": "read", "id": file_id, "offset": offset, "length": length})
        elif kind in ("chunk", "error") and file_id in self._readers:
            name, size, reader = self._readers[file_id]
            try:
                if kind == "error":
                    raise InputError(f"the browser could not read {name}: {str(msg.get('message'))[:120]}")
                try:
                    chunk = base64.b64decode(str(msg.get("data", "")), validate=True)
                except (binascii.Error, ValueError):
                    raise InputError("the file's bytes arrived garbled; open it again") from None
                result = reader.feed(int(msg.get("offset", -1)), chunk)
            except InputError as exc:
                result = exc
            if isinstance(result, tuple):
                offset, length = result
                self._send_msg({"kind": "read", "id": file_id, "offset": offset, "length": length})
                return
            self._readers = {k: v for k, v in self._readers.items() if k != file_id}
            self._send_msg({"kind": "done", "id": file_id})
            self.busy = bool(self._readers)
            self._on_header(name, size, result)
