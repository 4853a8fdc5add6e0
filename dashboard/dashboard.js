// The twitter-upload-mock dashboard (docs/dashboard.md): uploads, one upload's segment map and
// timeline, the journal and the rules, read from the admin API and nothing else. Every value
// from the server reaches the page as text (textContent, attributes), never as markup.
"use strict";

(() => {
  const ROOT = "/__admin/ui";
  const ADMIN = "/__admin";
  const POLL_MS = 1000;
  const PAGE_SIZE = 100;
  const TIMELINE_LIMIT = 500;
  const SEGMENT_INDEXES = 1000;
  const MAP_COLUMNS = 50;

  const main = document.getElementById("main");
  const scopeForm = document.getElementById("scope-form");
  const scopeInput = document.getElementById("scope-input");
  const liveState = document.getElementById("live-state");
  const liveTime = document.getElementById("live-time");
  const liveToggle = document.getElementById("live-toggle");

  /** The credential whose uploads, journal and rules the dashboard shows (README, Isolation). */
  let scope = "";
  /** The view on screen: `refresh(changed)` redraws it when the journal has news. */
  let view = null;
  /** The newest journal id seen: a different one means something happened. */
  let newestSeen = null;
  let paused = false;
  let documentPromise = null;

  // ---- Building the page -------------------------------------------------------------------

  /** An element with attributes (`on…` functions become listeners) and children (strings become text). */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const number = (value) => Number(value).toLocaleString("en-US");

  /** `2026-11-30T06:18:50.123Z` as `06:18:50.123`, the full time in a tooltip. */
  function clockTime(iso) {
    return el("time", { datetime: iso, title: iso }, iso.replace(/^.*T/, "").replace("Z", ""));
  }

  /** A time in the mock's clock, in UTC. */
  function fullTime(iso) {
    return el("time", { datetime: iso }, iso.replace("T", " ").replace(/\.\d+Z$/, "").replace("Z", "") + " UTC");
  }

  /** A dashboard address with the current scope kept. */
  function href(path, params = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) query.set(name, value);
    }
    if (scope) query.set("scope", scope);
    const text = query.toString();
    return ROOT + path + (text ? "?" + text : "");
  }

  function link(path, params, ...children) {
    return el("a", { href: href(path, params), "data-nav": true }, ...children);
  }

  function heading(text) {
    return el("h1", { tabindex: "-1" }, text);
  }

  // ---- The admin API -----------------------------------------------------------------------

  class AdminError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = {};
    if (scope) headers["X-Mock-Scope"] = scope;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(ADMIN + path, { method, headers, body, cache: "no-store" });
    if (!response.ok) {
      let message = response.statusText;
      try {
        message = (await response.json()).error || message;
      } catch (_) {
        // Not JSON: the status says enough.
      }
      throw new AdminError(response.status, message);
    }
    return response.status === 204 ? null : response.json();
  }

  /** The admin API's own description, for the values each field takes (docs/admin-openapi.json). */
  function openAPI() {
    documentPromise = documentPromise || api("/openapi.json").catch(() => ({}));
    return documentPromise;
  }

  function enumOf(spec, ...path) {
    let value = spec;
    for (const key of path) value = value && value[key];
    return Array.isArray(value) ? value.filter((item) => item !== null) : [];
  }

  function query(params) {
    const text = new URLSearchParams(params).toString();
    return text ? "?" + text : "";
  }

  function failure(error) {
    return el("p", { className: "alert", role: "alert" }, error instanceof Error ? error.message : String(error));
  }

  // ---- Navigation ---------------------------------------------------------------------------

  function viewFor(path) {
    if (path === ROOT || path === ROOT + "/") return uploadsView;
    if (path === ROOT + "/journal") return journalView;
    if (path === ROOT + "/rules") return rulesView;
    const match = path.match(/^\/__admin\/ui\/uploads\/([^/]+)$/);
    if (match) {
      let id = match[1];
      try {
        id = decodeURIComponent(id);
      } catch (_) {
        // A malformed escape: shown as sent.
      }
      return (root, params) => uploadView(root, params, id);
    }
    return notFoundView;
  }

  async function render(moveFocus) {
    const params = new URLSearchParams(location.search);
    scope = params.get("scope") || "";
    scopeInput.value = scope;
    newestSeen = null;
    for (const anchor of document.querySelectorAll("nav a[data-view]")) {
      const current = anchor.dataset.view === currentSection();
      if (current) anchor.setAttribute("aria-current", "page");
      else anchor.removeAttribute("aria-current");
      anchor.href = href(new URL(anchor.href).pathname.slice(ROOT.length));
    }
    const root = el("div");
    main.replaceChildren(root);
    const shown = viewFor(location.pathname)(root, params);
    view = shown;
    // What the view is about to show is at least this new: anything later is news for `poll`.
    newestSeen = await newestID().catch(() => null);
    await shown.load();
    if (view !== shown) return;
    performance.mark("dashboard:rendered");
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
    if (moveFocus) (root.querySelector("h1") || main).focus();
  }

  function currentSection() {
    const path = location.pathname;
    if (path.startsWith(ROOT + "/journal")) return "journal";
    if (path.startsWith(ROOT + "/rules")) return "rules";
    return "uploads";
  }

  function navigate(url, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    render(!replace);
  }

  document.addEventListener("click", (event) => {
    const anchor = event.target.closest && event.target.closest("a[data-nav]");
    if (!anchor || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(anchor.href);
  });
  window.addEventListener("popstate", () => render(true));

  scopeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(location.search);
    const value = scopeInput.value.trim();
    if (value) params.set("scope", value);
    else params.delete("scope");
    params.delete("before");
    params.delete("page");
    const text = params.toString();
    navigate(location.pathname + (text ? "?" + text : ""));
  });

  // ---- Live updates: one small request a second, a redraw only when the journal moved ------

  function setLive(state, text) {
    liveState.textContent = text;
    liveState.className = state;
  }

  liveToggle.addEventListener("click", () => {
    paused = !paused;
    liveToggle.setAttribute("aria-pressed", String(paused));
    liveToggle.textContent = paused ? "Resume updates" : "Pause updates";
    setLive(paused ? "paused" : "", paused ? "Paused" : "Live");
  });

  /** The newest journal entry's id (0 for an empty journal): one entry, found by a binary search. */
  async function newestID() {
    const latest = await api("/requests?order=newest&limit=1");
    return latest.requests.length ? latest.requests[0].id : 0;
  }

  async function poll() {
    if (!paused && !document.hidden && view && view.refresh) {
      try {
        const newest = await newestID();
        const changed = newestSeen !== null && newest !== newestSeen;
        newestSeen = newest;
        await view.refresh(changed);
        setLive("", "Live");
        liveTime.textContent = "updated " + new Date().toLocaleTimeString("en-GB");
      } catch (error) {
        setLive("down", "Cannot reach the mock");
        liveTime.textContent = error.message;
      }
    }
    setTimeout(poll, POLL_MS);
  }

  // ---- Uploads -----------------------------------------------------------------------------

  function uploadsView(root, params) {
    const filters = { state: params.get("state") || "", api: params.get("api") || "" };
    const page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
    document.title = "Uploads · twitter-upload-mock";
    const stateSelect = el("select", { id: "filter-state", name: "state" }, el("option", { value: "" }, "any"));
    const apiSelect = el("select", { id: "filter-api", name: "api" }, el("option", { value: "" }, "any"));
    const form = el("form", { className: "filters", "aria-label": "Filter uploads" },
      el("div", {}, el("label", { for: "filter-state" }, "State"), stateSelect),
      el("div", {}, el("label", { for: "filter-api" }, "API"), apiSelect),
      el("button", { type: "submit" }, "Filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      navigate(href("", { state: stateSelect.value, api: apiSelect.value }));
    });
    const body = el("tbody");
    const caption = el("caption");
    const pager = el("div", { className: "pager" });
    append(root, [heading("Uploads"), form,
      el("table", { id: "uploads" }, caption,
        el("thead", {}, el("tr", {}, ["Media id", "API", "State", "Media type", "Received", "Segments", "Expires", "Scope"]
          .map((name) => el("th", { scope: "col" }, name)))),
        body),
      pager]);

    async function load() {
      const [spec, list] = await Promise.all([openAPI(), api("/uploads").catch((error) => error)]);
      fillSelect(stateSelect, enumOf(spec, "components", "schemas", "UploadSummary", "properties", "state", "enum"), filters.state);
      fillSelect(apiSelect, enumOf(spec, "components", "schemas", "API", "enum"), filters.api);
      if (list instanceof Error) {
        body.replaceChildren();
        caption.replaceChildren(failure(list));
        return;
      }
      draw(list.uploads);
    }

    function draw(uploads) {
      const selected = uploads
        .filter((upload) => (!filters.state || upload.state === filters.state) && (!filters.api || upload.api === filters.api))
        .reverse();
      const pages = Math.max(1, Math.ceil(selected.length / PAGE_SIZE));
      const shown = selected.slice((Math.min(page, pages) - 1) * PAGE_SIZE, Math.min(page, pages) * PAGE_SIZE);
      caption.textContent = selected.length
        ? `${number(selected.length)} uploads, newest first` + (pages > 1 ? ` · page ${Math.min(page, pages)} of ${pages}` : "")
        : "";
      keepingFocus(body, () => body.replaceChildren(...shown.map(uploadRow)));
      if (!selected.length) {
        body.append(el("tr", {}, el("td", { colspan: 8, className: "empty" },
          uploads.length ? "No upload matches these filters." : "No uploads yet: point a client at " + location.origin + "/1.1/media/upload.json or /2/media/upload/initialize.")));
      }
      pager.replaceChildren(...(pages > 1 ? [
        pageLink("Newer", page > 1 ? page - 1 : null),
        el("span", {}, `Page ${Math.min(page, pages)} of ${pages}`),
        pageLink("Older", page < pages ? page + 1 : null),
      ] : []));
    }

    function pageLink(text, target) {
      return target === null ? el("span", { className: "hint" }, text)
        : link("", { ...filters, page: target }, text);
    }

    return { load, refresh: (changed) => (changed ? load() : null) };
  }

  /** Redraws inside `container`, then puts focus back on the same link if it was on one there. */
  function keepingFocus(container, redraw) {
    const active = document.activeElement;
    const target = active && container.contains(active) && active.getAttribute("href");
    redraw();
    if (target) {
      const again = [...container.querySelectorAll("a[href]")].find((anchor) => anchor.getAttribute("href") === target);
      if (again) again.focus();
    }
  }

  function fillSelect(select, values, chosen) {
    for (const value of values) select.append(el("option", { value }, value));
    if (chosen && !values.includes(chosen)) select.append(el("option", { value: chosen }, chosen));
    select.value = chosen;
  }

  function uploadRow(upload) {
    const share = upload.total_bytes ? Math.min(1, upload.received_bytes / upload.total_bytes) : 0;
    const bar = el("span", { className: "bar", "aria-hidden": "true" }, el("span"));
    bar.firstChild.style.width = (share * 100).toFixed(1) + "%";
    return el("tr", {},
      el("td", { className: "mono" }, link("/uploads/" + upload.media_id_string, {}, upload.media_id_string)),
      el("td", {}, upload.api),
      el("td", {}, upload.state),
      el("td", {}, upload.media_type, upload.media_category ? el("div", { className: "hint" }, upload.media_category) : null),
      el("td", { className: "num" }, `${number(upload.received_bytes)} / ${number(upload.total_bytes)}`, bar),
      el("td", { className: "num" }, number(upload.segment_count)),
      el("td", { className: "time" }, fullTime(upload.expires_at)),
      el("td", { className: "mono" }, upload.scope === null ? el("span", { className: "hint" }, "none") : upload.scope));
  }

  // ---- One upload --------------------------------------------------------------------------

  function uploadView(root, params, id) {
    document.title = `Upload ${id} · twitter-upload-mock`;
    const content = el("div");
    append(root, [heading(`Upload ${id}`), content]);
    let drawn = false;

    async function load() {
      if (!/^\d{1,20}$/.test(id)) {
        content.replaceChildren(failure(`“${id}” is not a media id: media ids are decimal numbers.`));
        return;
      }
      let report, timeline, total;
      try {
        [report, timeline, total] = await Promise.all([
          api("/uploads/" + id),
          api("/requests" + query({ media_id: id, order: "newest", limit: TIMELINE_LIMIT })),
          api("/requests/count" + query({ media_id: id })),
        ]);
      } catch (error) {
        content.replaceChildren(failure(error), el("p", {}, link("", {}, "Back to the uploads")));
        return;
      }
      const focusedSegment = document.activeElement && document.activeElement.dataset
        ? document.activeElement.dataset.segment : undefined;
      content.replaceChildren();
      append(content, uploadDetails(report, timeline.requests, total.count));
      if (focusedSegment !== undefined) {
        const again = content.querySelector(`[data-segment="${focusedSegment}"]`);
        if (again) again.focus();
      }
      drawn = true;
    }

    return { load, refresh: (changed) => (changed || !drawn ? load() : null) };
  }

  function uploadDetails(report, requests, requestCount) {
    const id = report.media_id_string;
    const mediaURL = `${ADMIN}/uploads/${id}/media`;
    const whole = typeof report.sha256 === "string";
    const facts = [
      ["API", report.api],
      ["State", report.state],
      ["Media type", report.media_type + (report.media_category ? ` (${report.media_category})` : "")],
      ["Received", `${number(report.received_bytes)} of ${number(report.total_bytes)} bytes in ${number(report.segment_count)} segments`],
      ["Expires", fullTime(report.expires_at)],
      ["Scope", report.scope === null ? "none" : report.scope],
      ["Owner", report.owner === null ? "none (authentication off)" : report.owner],
      ["Alt text", report.alt_text === null ? "none" : report.alt_text],
    ];
    if (report.subtitles.length) {
      facts.push(["Subtitles", report.subtitles.map((track) =>
        `${track.language_code} ${track.display_name === null ? "" : "“" + track.display_name + "” "}(${track.media_id})`).join(", ")]);
    }
    if (report.metadata) facts.push(["Other metadata", JSON.stringify(report.metadata)]);
    const summary = el("dl", { className: "summary" }, facts.map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));

    const digests = el("section", { "aria-labelledby": "digests-heading" }, el("h2", { id: "digests-heading" }, "Reassembled media"));
    if (whole) {
      append(digests, [
        el("dl", { className: "summary" },
          el("dt", {}, "SHA-256"), el("dd", { className: "digest" }, report.sha256),
          el("dt", {}, "MD5"), el("dd", { className: "digest" }, report.md5)),
        el("p", {}, el("a", { href: mediaURL, download: `media-${id}` }, `Download the ${number(report.received_bytes)} bytes`)),
      ]);
      if (report.media_type.toLowerCase().startsWith("image/")) {
        const size = report.image ? `${report.image.width}×${report.image.height} px` : "size not read yet";
        append(digests, [el("figure", { className: "thumbnail" },
          el("img", { src: mediaURL, alt: report.alt_text || `Upload ${id}`, loading: "lazy" }),
          el("figcaption", {}, size))]);
      }
    } else {
      append(digests, [el("p", {}, `Not whole yet: ${number(report.received_bytes)} of ${number(report.total_bytes)} bytes, `
        + "so there are no digests. Segments must be 0, 1, 2… with no gap and add up to total_bytes.")]);
    }

    return [
      el("div", { className: "columns" }, el("section", { "aria-label": "Summary" }, summary), digests),
      segmentMap(report),
      timelineSection(requests, requestCount, report),
    ];
  }

  /** Indexes 0–999: arrived, retried, refused or missing, each with its size, digest and tries. */
  function segmentMap(report) {
    const stored = new Map(report.segments.map((segment) => [segment.index, segment]));
    const tries = new Map();
    for (const attempt of report.attempts) {
      if (!tries.has(attempt.segment_index)) tries.set(attempt.segment_index, []);
      tries.get(attempt.segment_index).push(attempt);
    }
    const highest = Math.max(-1, ...stored.keys(), ...tries.keys());
    const counts = { arrived: 0, retried: 0, refused: 0, missing: 0 };
    const detail = el("p", { id: "segment-detail", "aria-live": "polite" }, "Hover over or focus a segment for its size, SHA-256 and APPENDs.");
    const grid = el("div", { className: "segments", role: "group", "aria-label": "Segment indexes 0 to 999; arrow keys move" });
    let first = null;
    for (let index = 0; index < SEGMENT_INDEXES; index += 1) {
      const segment = stored.get(index);
      const sent = tries.get(index) || [];
      const state = segment ? (sent.length > 1 ? "retried" : "arrived") : sent.length ? "refused" : index <= highest ? "missing" : "unused";
      if (state in counts) counts[state] += 1;
      let text = `Segment ${index}: ${state === "unused" ? "not sent" : state}`;
      if (segment) text += `, ${number(segment.bytes)} bytes, SHA-256 ${segment.sha256}`;
      if (sent.length) text += `; APPENDs: ${sent.map((attempt) => attemptText(attempt)).join(", ")}`;
      const cell = el("button", { type: "button", className: "segment " + state, tabindex: "-1", title: text, "aria-label": text,
        "data-segment": index });
      if (first === null && state !== "unused") first = cell;
      grid.append(cell);
    }
    (first || grid.firstChild).tabIndex = 0;
    const show = (event) => {
      const cell = event.target.closest(".segment");
      if (cell && grid.contains(cell)) detail.textContent = cell.getAttribute("aria-label");
    };
    grid.addEventListener("mouseover", show);
    grid.addEventListener("focusin", show);
    grid.addEventListener("keydown", (event) => {
      const steps = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: MAP_COLUMNS, ArrowUp: -MAP_COLUMNS };
      const cell = event.target.closest(".segment");
      if (!cell) return;
      let target = null;
      const index = Number(cell.dataset.segment);
      if (event.key in steps) target = index + steps[event.key];
      else if (event.key === "Home") target = 0;
      else if (event.key === "End") target = SEGMENT_INDEXES - 1;
      if (target === null || target < 0 || target >= SEGMENT_INDEXES) return;
      event.preventDefault();
      cell.tabIndex = -1;
      const next = grid.children[target];
      next.tabIndex = 0;
      next.focus();
    });
    const legend = el("ul", { className: "legend" }, ["arrived", "retried", "refused", "missing"].map((state) =>
      el("li", {}, el("span", { className: "segment " + state, "aria-hidden": "true" }), `${state} (${counts[state]})`)));
    return el("section", { "aria-labelledby": "map-heading" },
      el("h2", { id: "map-heading" }, "Segments"),
      legend, grid, detail);
  }

  function attemptText(attempt) {
    let text = attempt.status === null ? "no answer" : String(attempt.status);
    if (attempt.fault) text += ` (fault: ${attempt.fault})`;
    return text;
  }

  function timelineSection(requests, requestCount, report) {
    const rows = requests.map((entry) => journalRow(entry, { showMedia: false }));
    const caption = requestCount > requests.length
      ? `The newest ${number(requests.length)} of ${number(requestCount)} requests for this media id, newest first`
      : `${number(requestCount)} requests for this media id, newest first`;
    const more = report.dropped_attempts ? el("p", { className: "hint" }, `${number(report.dropped_attempts)} older APPENDs are no longer kept.`) : null;
    return el("section", { "aria-labelledby": "timeline-heading" },
      el("h2", { id: "timeline-heading" }, "Timeline"),
      el("p", {}, link("/journal", { media_id: report.media_id_string }, "This upload in the journal")),
      el("table", { id: "timeline" }, el("caption", {}, caption), journalHead(false), el("tbody", {}, rows)),
      more);
  }

  // ---- The journal -------------------------------------------------------------------------

  const JOURNAL_FILTERS = [
    ["api", "API"], ["command", "Command"], ["media_id", "Media id"], ["segment_index", "Segment"],
    ["status", "Status (code or none)"], ["fault", "Fault (true, false or rule id)"], ["user", "User"], ["since", "Since (ISO 8601)"],
  ];

  function journalHead(showMedia) {
    const names = ["#", "Time (UTC)", "API", "Request", ...(showMedia ? ["Media id"] : []), "Segment", "Status", "Latency", "Bytes", "Fault, limit, error"];
    return el("thead", {}, el("tr", {}, names.map((name) => el("th", { scope: "col" }, name))));
  }

  function journalRow(entry, { showMedia }) {
    const faulted = entry.fault_rule !== null;
    const limited = entry.status === 429;
    const details = [];
    if (faulted) details.push(el("span", { className: "badge badge-fault" }, "fault"), entry.fault || "", " ");
    if (limited) details.push(el("span", { className: "badge badge-limited" }, "429"), " ");
    if (entry.rate_limit) details.push(`rate limit ${entry.rate_limit} `);
    if (entry.error) details.push(el("div", {}, entry.error));
    if (entry.note) details.push(el("div", { className: "hint" }, entry.note));
    const status = entry.status === null ? el("span", { className: "badge badge-none" }, "no answer") : String(entry.status);
    return el("tr", { className: faulted ? "row-fault" : limited ? "row-limited" : null },
      el("td", { className: "num" }, String(entry.id)),
      el("td", { className: "time mono" }, clockTime(entry.time)),
      el("td", {}, entry.api),
      el("td", {}, entry.command || "", el("div", { className: "hint" }, `${entry.method} ${entry.path}`)),
      showMedia ? el("td", { className: "mono" }, entry.media_id ? link("/uploads/" + entry.media_id, {}, entry.media_id) : "") : null,
      el("td", { className: "num" }, entry.segment_index === null ? "" : String(entry.segment_index)),
      el("td", { className: "num" }, status),
      el("td", { className: "num" }, `${entry.duration_ms.toFixed(1)} ms`),
      el("td", { className: "num" }, number(entry.bytes_received)),
      el("td", { className: "details" }, details));
  }

  function journalView(root, params) {
    document.title = "Journal · twitter-upload-mock";
    const filters = {};
    for (const [name] of JOURNAL_FILTERS) filters[name] = params.get(name) || "";
    const before = params.get("before") || "";
    const inputs = {};
    const fields = JOURNAL_FILTERS.map(([name, label]) => {
      const input = name === "api" || name === "command"
        ? el("select", { id: "journal-" + name, name }, el("option", { value: "" }, "any"))
        : el("input", { id: "journal-" + name, name, value: filters[name], className: name === "since" ? "wide" : null,
          autocomplete: "off", spellcheck: "false" });
      inputs[name] = input;
      return el("div", {}, el("label", { for: "journal-" + name }, label), input);
    });
    const form = el("form", { className: "filters", "aria-label": "Filter the journal" }, fields,
      el("button", { type: "submit" }, "Filter"), link("/journal", {}, "Clear filters"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = {};
      for (const [name] of JOURNAL_FILTERS) chosen[name] = inputs[name].value.trim();
      navigate(href("/journal", chosen));
    });
    const message = el("div");
    const caption = el("caption");
    const body = el("tbody");
    const pager = el("div", { className: "pager" });
    const exportButton = el("button", { type: "button" }, "Export as HAR");
    exportButton.addEventListener("click", () => exportHAR(filters).catch((error) => message.replaceChildren(failure(error))));
    append(root, [heading("Journal"), form, message,
      el("table", { id: "journal" }, caption, journalHead(true), body), pager,
      el("p", {}, exportButton, " ", el("span", { className: "hint" }, "the entries these filters select, as HAR 1.2 for browser devtools"))]);
    let firstID = null;

    function selected() {
      const chosen = {};
      for (const [name] of JOURNAL_FILTERS) if (filters[name]) chosen[name] = filters[name];
      return chosen;
    }

    async function load() {
      const spec = await openAPI();
      fillSelect(inputs.api, enumOf(spec, "components", "schemas", "API", "enum"), filters.api);
      fillSelect(inputs.command, enumOf(spec, "components", "schemas", "Command", "enum"), filters.command);
      let page, count;
      try {
        [page, count] = await Promise.all([
          api("/requests" + query({ ...selected(), order: "newest", limit: PAGE_SIZE, ...(before ? { before } : {}) })),
          api("/requests/count" + query(selected())),
        ]);
      } catch (error) {
        message.replaceChildren(failure(error));
        body.replaceChildren();
        caption.textContent = "";
        pager.replaceChildren();
        return;
      }
      message.replaceChildren();
      const entries = page.requests;
      firstID = entries.length ? entries[0].id : null;
      keepingFocus(body, () => body.replaceChildren(...entries.map((entry) => journalRow(entry, { showMedia: true }))));
      if (!entries.length) body.append(el("tr", {}, el("td", { colspan: 10, className: "empty" }, "No request matches.")));
      caption.textContent = `${number(count.count)} matching requests, newest first` + (entries.length
        ? ` · showing #${entries[0].id} to #${entries[entries.length - 1].id}` : "");
      const older = entries.length === PAGE_SIZE
        ? link("/journal", { ...selected(), before: entries[entries.length - 1].id }, "Older") : el("span", { className: "hint" }, "Older");
      const newerButton = el("button", { type: "button",
        onclick: () => newer().catch((error) => message.replaceChildren(failure(error))) }, "Newer");
      pager.replaceChildren();
      append(pager, [before ? newerButton : el("span", { className: "hint" }, "Newer"), older,
        before ? link("/journal", selected(), "Newest") : null]);
    }

    /** The page just above this one: the PAGE_SIZE entries after its first, or the newest page when no more are left. */
    async function newer() {
      const after = firstID ?? Number(before) - 1;
      const next = await api("/requests" + query({ ...selected(), order: "oldest", limit: PAGE_SIZE + 1, after }));
      const entries = next.requests;
      const target = entries.length > PAGE_SIZE ? { ...selected(), before: entries[PAGE_SIZE - 1].id + 1 } : selected();
      navigate(href("/journal", target));
    }

    async function refresh(changed) {
      if (!changed) return;
      if (!before) return load();
      if (!message.querySelector(".notice")) {
        message.replaceChildren(el("p", { className: "notice" }, "New requests arrived. ", link("/journal", selected(), "Show the newest")));
      }
    }

    return { load, refresh };
  }

  async function exportHAR(filters) {
    const chosen = {};
    for (const [name, value] of Object.entries(filters)) if (value) chosen[name] = value;
    const headers = scope ? { "X-Mock-Scope": scope } : {};
    const response = await fetch(ADMIN + "/requests.har" + query(chosen), { headers, cache: "no-store" });
    if (!response.ok) throw new AdminError(response.status, (await response.json()).error);
    const url = URL.createObjectURL(await response.blob());
    const anchor = el("a", { href: url, download: "twitter-upload-mock.har" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // ---- Rules ---------------------------------------------------------------------------------

  function rulesView(root) {
    document.title = "Rules · twitter-upload-mock";
    const status = el("p", { className: "notice", role: "status" });
    const faults = ruleSection({
      kind: "faults", listKey: "faults", title: "Fault rules", noun: "fault rule",
      empty: "No fault rules: every request is answered as the real service would.",
    });
    const limits = ruleSection({
      kind: "rate-limits", listKey: "rate_limits", title: "Rate limits", noun: "rate limit",
      empty: "No rate limits: nothing is limited until one is added or the server is reset.",
    });
    const panels = el("div");
    // The clock and the scenarios first: one click each, and the rules a scenario adds show right below.
    append(root, [el("div", { className: "rules" }, heading("Rules"), status, panels, faults.section, limits.section)]);
    const rehearsal = addRehearsalPanels(panels, {
      announce: (text) => { status.textContent = text; },
      rulesChanged: () => Promise.all([faults.load(), limits.load()]),
    });

    function ruleSection({ kind, listKey, title, noun, empty }) {
      const headingID = kind + "-heading";
      const sectionHeading = el("h2", { id: headingID, tabindex: "-1" }, title);
      const body = el("tbody");
      const alert = el("p", { className: "alert", role: "alert" });
      const form = el("form", { id: kind + "-form", "aria-labelledby": kind + "-form-legend" });
      const section = el("section", { "aria-labelledby": headingID }, sectionHeading,
        el("table", { id: kind }, el("caption", {}, `${title} in force, in the order they are tried`),
          el("thead", {}, el("tr", {}, ["Id", "Rule", "Scope", ""].map((name, index) =>
            el("th", { scope: "col" }, index === 3 ? el("span", { className: "hint" }, "Remove") : name)))), body),
        form, alert);

      let shownText = null;

      /** Draws the rules, only when they changed, so focus stays where it is between polls. */
      async function load() {
        const list = await api("/" + kind);
        const rules = list[listKey];
        const text = JSON.stringify(rules);
        if (text === shownText) return;
        shownText = text;
        body.replaceChildren(...rules.map((rule) => el("tr", {},
          el("td", { className: "num" }, rule.id),
          el("td", {}, ruleFields(rule)),
          el("td", { className: "mono" }, rule.scope === null || rule.scope === undefined ? el("span", { className: "hint" }, "all") : rule.scope),
          el("td", {}, el("button", { type: "button", className: "danger", "aria-label": `Remove ${noun} ${rule.id}`,
            onclick: () => remove(rule.id) }, "Remove")))));
        if (!rules.length) body.append(el("tr", {}, el("td", { colspan: 4, className: "empty" }, empty)));
      }

      async function remove(id) {
        try {
          await api(`/${kind}/${encodeURIComponent(id)}`, { method: "DELETE" });
          status.textContent = `Removed ${noun} ${id}.`;
          alert.textContent = "";
        } catch (error) {
          alert.textContent = error.message;
        }
        await load();
        sectionHeading.focus();
      }

      async function add(json) {
        alert.textContent = "";
        try {
          JSON.parse(json);
        } catch (error) {
          alert.textContent = "The JSON cannot be read: " + error.message;
          return false;
        }
        try {
          const added = await api("/" + kind, { method: "POST", body: json });
          const ids = (added[listKey] || [added]).map((rule) => rule.id).join(", ");
          status.textContent = `Added ${noun} ${ids}.`;
        } catch (error) {
          alert.textContent = error.message;
          return false;
        }
        await load();
        return true;
      }

      return { section, form, load, add };
    }

    async function load() {
      const spec = await openAPI();
      buildFaultForm(faults, spec);
      buildLimitForm(limits, spec);
      await refresh();
    }

    async function refresh() {
      try {
        await Promise.all([faults.load(), limits.load(), rehearsal.refresh()]);
      } catch (error) {
        status.textContent = "";
        status.append(failure(error));
      }
    }

    return { load, refresh };
  }

  /**
   * The rehearsal controls beside the rules: the virtual clock (GET/POST/DELETE /__admin/clock,
   * docs/clock.md) and named scenarios (GET /__admin/scenarios, POST and DELETE
   * /__admin/scenarios/{name}, docs/faults.md), each a section of its own in `container`. With a
   * scope they move that scope's clock and install for its requests alone, as the API does.
   * `announce` says what was done; `rulesChanged` redraws the rule tables a scenario changed.
   */
  function addRehearsalPanels(container, { announce, rulesChanged }) {
    const clock = clockPanel(announce);
    const scenarios = scenarioPanel(announce, rulesChanged);
    append(container, [clock.section, scenarios.section]);
    return { refresh: () => Promise.all([clock.load(), scenarios.load()]) };
  }

  /** `1796633776.174` as `2026-12-07 09:36:16.174 UTC`. */
  function epochText(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace("Z", " UTC");
  }

  /** `86400` as `1 d`, `5400.5` as `1 h 30 min 0.5 s`: how far the clock reads from the wall clock. */
  function spanText(seconds) {
    let rest = Math.abs(seconds);
    const parts = [];
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
      if (rest >= size) {
        parts.push(`${Math.floor(rest / size)} ${unit}`);
        rest %= size;
      }
    }
    if (rest >= 0.001 || !parts.length) parts.push(`${Math.round(rest * 1000) / 1000} s`);
    return parts.join(" ");
  }

  function clockPanel(announce) {
    const reading = el("p", { id: "clock-reading" });
    const alert = el("p", { className: "alert", role: "alert" });
    const advance = el("input", { id: "clock-advance-secs", name: "advance_secs", type: "number", min: 0, step: "any", value: 3600 });
    const setTo = el("input", { id: "clock-set-to", name: "set", type: "datetime-local", step: 1 });
    const freezeButton = el("button", { type: "button", id: "clock-freeze" }, "Freeze");
    const resetButton = el("button", { type: "button", id: "clock-reset" }, "Back to real time");
    const whose = el("p", { className: "hint" });
    const section = el("section", { "aria-labelledby": "clock-heading" },
      el("h2", { id: "clock-heading", tabindex: "-1" }, "Clock"), whose, reading,
      el("div", { className: "clock-controls" },
        el("form", { id: "clock-advance", className: "inline" },
          el("label", { for: advance.id }, "Advance by (seconds)"), advance, el("button", { type: "submit" }, "Advance")),
        el("form", { id: "clock-set", className: "inline" },
          el("label", { for: setTo.id }, "Set to (UTC)"), setTo, el("button", { type: "submit" }, "Set")),
        el("div", { className: "actions" }, freezeButton, resetButton)),
      alert);
    let frozen = false;
    let shownText = null;

    function draw(status) {
      frozen = status.frozen;
      const text = JSON.stringify(status);
      if (text === shownText) return;
      shownText = text;
      const offset = status.offset_secs === 0 ? "on real time"
        : `${spanText(status.offset_secs)} ${status.offset_secs > 0 ? "ahead of" : "behind"} the wall clock`;
      reading.replaceChildren(el("strong", {}, epochText(status.now)), ` · ${status.frozen ? "frozen" : "running"} · ${offset}`);
      freezeButton.textContent = status.frozen ? "Resume" : "Freeze";
      freezeButton.setAttribute("aria-pressed", String(status.frozen));
      if (!setTo.matches(":focus")) setTo.value = new Date(status.now * 1000).toISOString().slice(0, 19);
    }

    async function load() {
      whose.textContent = scope
        ? `The clock of scope ${scope}: moving it gives that credential a clock of its own (docs/clock.md).`
        : "The server's clock, which every scope without its own follows: session expiry, rate-limit windows and timed processing read it.";
      draw(await api("/clock"));
    }

    async function change(method, body, done) {
      alert.textContent = "";
      try {
        const status = await api("/clock", { method, body: body === undefined ? undefined : JSON.stringify(body) });
        shownText = null;
        draw(status);
        announce(done(status));
      } catch (error) {
        alert.textContent = error.message;
      }
    }

    section.querySelector("#clock-advance").addEventListener("submit", (event) => {
      event.preventDefault();
      const seconds = Number(advance.value);
      change("POST", { advance_secs: advance.value === "" ? null : seconds }, () => `Advanced the clock by ${spanText(seconds)}.`);
    });
    section.querySelector("#clock-set").addEventListener("submit", (event) => {
      event.preventDefault();
      const seconds = Date.parse(setTo.value + "Z") / 1000;
      change("POST", { set: Number.isFinite(seconds) ? seconds : null }, (status) => `Set the clock to ${epochText(status.now)}.`);
    });
    freezeButton.addEventListener("click", () =>
      change("POST", { freeze: !frozen }, (status) => (status.frozen ? "Froze the clock." : "The clock runs again.")));
    resetButton.addEventListener("click", () =>
      change("DELETE", undefined, () => (scope ? `Scope ${scope} follows the server's clock again.` : "Every clock is back on real time.")));
    return { section, load };
  }

  function scenarioPanel(announce, rulesChanged) {
    const headingNode = el("h2", { id: "scenarios-heading", tabindex: "-1" }, "Scenarios");
    const body = el("tbody");
    const alert = el("p", { className: "alert", role: "alert" });
    const section = el("section", { "aria-labelledby": "scenarios-heading" }, headingNode,
      el("table", { id: "scenarios" },
        el("caption", {}, "Named rehearsals of production failures: installing one adds its rules after those in force"),
        el("thead", {}, el("tr", {}, ["Name", "What it rehearses", "Rules it installs", "Installed", ""].map((name, index) =>
          el("th", { scope: "col" }, index === 4 ? el("span", { className: "hint" }, "Install or remove") : name)))),
        body),
      alert);
    let shownText = null;

    async function load() {
      const scenarios = (await api("/scenarios")).scenarios;
      const text = JSON.stringify(scenarios);
      if (text === shownText) return;
      shownText = text;
      body.replaceChildren(...scenarios.map(scenarioRow));
      if (!scenarios.length) body.append(el("tr", {}, el("td", { colspan: 5, className: "empty" }, "The server knows no scenarios.")));
    }

    function scenarioRow(scenario) {
      const rules = [...scenario.faults.map((rule) => ["fault", rule]), ...scenario.rate_limits.map((rule) => ["rate limit", rule])];
      return el("tr", {},
        el("td", { className: "mono" }, scenario.name),
        el("td", { className: "details" }, scenario.description),
        el("td", {}, el("details", {}, el("summary", {}, plural(scenario.faults.length, "fault rule"), ", ",
          plural(scenario.rate_limits.length, "rate limit")),
          rules.map(([kind, rule]) => el("div", { className: "scenario-rule" }, el("span", { className: "hint" }, kind), ruleFields(rule))))),
        el("td", {}, scenario.installed ? (scope ? `yes, for ${scope}` : "yes") : "no"),
        el("td", {}, el("div", { className: "actions" },
          el("button", { type: "button", className: "primary", "aria-label": `Install scenario ${scenario.name}`,
            onclick: () => act("POST", scenario.name) }, scenario.installed ? "Install again" : "Install"),
          scenario.installed ? el("button", { type: "button", className: "danger", "aria-label": `Remove scenario ${scenario.name}`,
            onclick: () => act("DELETE", scenario.name) }, "Remove") : null)));
    }

    async function act(method, name) {
      alert.textContent = "";
      try {
        const installed = await api("/scenarios/" + encodeURIComponent(name), { method });
        if (installed) {
          const ids = [...installed.faults.map((rule) => `fault rule ${rule.id}`), ...installed.rate_limits.map((rule) => `rate limit ${rule.id}`)];
          announce(`Installed scenario ${name}${scope ? ` for ${scope}` : ""}: ${ids.join(", ")}.`);
        } else {
          announce(`Removed scenario ${name}${scope ? ` from ${scope}` : ""}.`);
        }
      } catch (error) {
        alert.textContent = error.message;
      }
      await Promise.all([load(), rulesChanged()]);
      headingNode.focus();
    }

    return { section, load };
  }

  function plural(count, noun) {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
  }

  /** A labelled input or select inside a rule form. */
  function field(idPrefix, name, label, input) {
    input.id = idPrefix + "-" + name.replace(/\W/g, "-");
    input.name = name;
    return el("div", { className: "field" }, el("label", { for: input.id }, label), input);
  }

  function choice(values) {
    return el("select", {}, el("option", { value: "" }, "any"), values.map((value) => el("option", { value }, value)));
  }

  /** A rule form: fields on top, the JSON they make below it, sent as shown (and as edited). */
  function ruleForm(section, { legend, groups, make, example }) {
    const preview = el("textarea", { id: section.form.id + "-json", name: "json", spellcheck: "false" });
    let edited = false;
    const update = () => {
      if (!edited) preview.value = JSON.stringify(make(), null, 1).replace(/\n\s*/g, " ");
    };
    preview.addEventListener("input", () => {
      edited = true;
    });
    section.form.replaceChildren(
      el("p", { id: section.form.id + "-legend", className: "legend-text" }, el("strong", {}, legend)),
      ...groups.map(([title, fields]) => el("fieldset", {}, el("legend", {}, title), fields)),
      el("div", { className: "field" }, el("label", { for: preview.id }, "JSON to send (edit it to use any field, e.g. " + example + ")"), preview),
      el("div", { className: "actions" }, el("button", { type: "submit", className: "primary" }, "Add"),
        el("button", { type: "button", onclick: () => { edited = false; section.form.reset(); update(); } }, "Start over")));
    section.form.addEventListener("input", (event) => {
      if (event.target !== preview) update();
    });
    section.form.addEventListener("change", (event) => {
      if (event.target !== preview) update();
    });
    section.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await section.add(preview.value)) {
        edited = false;
        section.form.reset();
        update();
      }
    });
    update();
  }

  function readMatch(form) {
    const value = (name) => form.elements[name].value.trim();
    const match = {};
    if (value("match.api")) match.api = value("match.api");
    if (value("match.command")) match.command = value("match.command");
    if (value("match.segment_index") !== "") match.segment_index = Number(value("match.segment_index"));
    if (value("match.media_id")) match.media_id = value("match.media_id");
    return match;
  }

  function matchFields(prefix, spec) {
    return [
      field(prefix, "match.api", "API", choice(enumOf(spec, "components", "schemas", "API", "enum"))),
      field(prefix, "match.command", "Command", choice(enumOf(spec, "components", "schemas", "Command", "enum"))),
      field(prefix, "match.segment_index", "Segment index", el("input", { type: "number", min: 0, max: 999 })),
      field(prefix, "match.media_id", "Media id", el("input", { inputmode: "numeric", className: "wide" })),
    ];
  }

  function buildFaultForm(section, spec) {
    const prefix = "fault";
    const failures = enumOf(spec, "components", "schemas", "FaultAction", "properties", "fault", "enum");
    const make = () => {
      const form = section.form;
      const value = (name) => form.elements[name].value.trim();
      const action = {};
      if (value("action.status") !== "") action.status = Number(value("action.status"));
      if (value("action.fault")) action.fault = value("action.fault");
      if (value("action.delay_ms") !== "") action.delay_ms = Number(value("action.delay_ms"));
      const rule = { match: readMatch(form), action };
      if (value("match.skip") !== "") rule.match.skip = Number(value("match.skip"));
      if (value("times") !== "") rule.times = Number(value("times"));
      if (form.elements["after_commit"].checked) rule.after_commit = true;
      return rule;
    };
    ruleForm(section, {
      legend: "Add a fault rule",
      example: "\"probability\": 0.1 in match, or \"error\" in action",
      groups: [
        ["When a request matches", [...matchFields(prefix, spec),
          field(prefix, "match.skip", "Skip the first", el("input", { type: "number", min: 0 }))]],
        ["Answer with", [
          field(prefix, "action.status", "Status", el("input", { type: "number", min: 200, max: 599, placeholder: "503" })),
          field(prefix, "action.fault", "Failure", choice(failures)),
          field(prefix, "action.delay_ms", "Delay (ms)", el("input", { type: "number", min: 0 })),
          field(prefix, "times", "Times", el("input", { type: "number", min: 1, placeholder: "always" })),
          el("div", { className: "field" }, el("label", { for: "fault-after_commit" }, "After commit"),
            el("input", { type: "checkbox", id: "fault-after_commit", name: "after_commit" })),
        ]],
      ],
      make,
    });
  }

  function buildLimitForm(section, spec) {
    const prefix = "limit";
    const scopes = enumOf(spec, "components", "schemas", "RateLimitRuleInput", "properties", "per", "enum");
    const make = () => {
      const form = section.form;
      const value = (name) => form.elements[name].value.trim();
      const rule = { match: readMatch(form), limit: value("limit") === "" ? 1 : Number(value("limit")) };
      if (value("window_secs") !== "") rule.window_secs = Number(value("window_secs"));
      if (value("per")) rule.per = value("per");
      return rule;
    };
    ruleForm(section, {
      legend: "Add a rate limit",
      example: "\"scope\"",
      groups: [
        ["Count requests that match", matchFields(prefix, spec)],
        ["Allow", [
          field(prefix, "limit", "Requests", el("input", { type: "number", min: 0, value: 1 })),
          field(prefix, "window_secs", "Per seconds", el("input", { type: "number", min: 1, value: 900 })),
          field(prefix, "per", "Counted per", choice(scopes)),
        ]],
      ],
      make,
    });
  }

  /** Every field of a rule but its id and scope, flattened (`action.delay.median_ms: 40`), so fields this page does not know show too. */
  function ruleFields(rule) {
    const lines = [];
    const walk = (value, path) => {
      if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
        for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
      } else {
        lines.push(`${path}: ${JSON.stringify(value)}`);
      }
    };
    const { id, scope: ruleScope, ...rest } = rule;
    // Fields most rules leave empty say nothing when empty.
    for (const key of ["seed", "scenario"]) if (rest[key] === null) delete rest[key];
    walk(rest, "");
    return el("ul", { className: "rule-fields" }, lines.map((line) => el("li", {}, line)));
  }

  // ---- Anything else -----------------------------------------------------------------------

  function notFoundView(root) {
    document.title = "Not found · twitter-upload-mock";
    append(root, [heading("Not found"), el("p", {}, `The dashboard has no page at ${location.pathname}. `, link("", {}, "Go to the uploads"))]);
    return { load: async () => {} };
  }

  render(false).then(() => {
    setLive("", "Live");
    setTimeout(poll, POLL_MS);
  });
})();
