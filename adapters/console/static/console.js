// hubgw console: the signed-in user's jobs and rollouts, over the gateway's
// REST API (/api/v1). Plain JavaScript, no framework, nothing loaded from
// elsewhere. Every string the gateway or a server sends is put on the page
// as text (textContent, never parsed as HTML), so no answer can inject markup.
"use strict";

(function () {
  const TOKEN_KEY = "hubgw.token";
  const API = "../api/v1"; // relative: works behind a path prefix
  const SERVER_STATES = ["pending", "running", "succeeded", "failed", "unreachable", "deferred", "skipped", "in-doubt"];
  const ACTIVE = ["running", "paused", "halted"];

  const $ = (id) => document.getElementById(id);

  // el builds an element; children are nodes or strings (made text nodes).
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k === "onclick") e.addEventListener("click", v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(node) {
    node.replaceChildren();
    return node;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString();
  }

  // badge shows a state; the stylesheet colours it by data-status.
  function badge(node, status) {
    node.textContent = status || "";
    node.dataset.status = status || "";
  }

  function statusBadge(status) {
    const b = el("span", { class: "badge" });
    badge(b, status);
    return b;
  }

  // ---- messages ----------------------------------------------------------

  function say(text, info) {
    const m = $("message");
    m.textContent = text;
    m.classList.toggle("info", !!info);
    m.hidden = !text;
  }

  // ---- the API -----------------------------------------------------------

  // auth is how requests are signed in: "token" (a bearer token kept in
  // sessionStorage) or "cookie" (Uyuni's native session cookie, which the
  // browser sends by itself); null before sign-in.
  let auth = null;

  class APIError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || "HTTP " + status);
      this.status = status;
      this.problem = problem;
    }
  }

  function headers(json) {
    const h = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (auth === "token" && token) h.Authorization = "Bearer " + token;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  async function api(method, path, body) {
    const init = { method, headers: headers(method !== "GET"), credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") init.body = JSON.stringify(body === undefined ? {} : body);
    const r = await fetch(API + path, init);
    if (r.status === 204) return null;
    let data = null;
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
    if (!r.ok) {
      if (r.status === 401 && auth && !probing) signedOut("Your session has ended: sign in again.");
      throw new APIError(r.status, data);
    }
    return data;
  }

  // ---- signing in --------------------------------------------------------

  function signedIn(how, who) {
    auth = how;
    $("who-text").textContent = who;
    $("who").hidden = false;
    $("nav").hidden = false;
    say("");
    route();
  }

  function signedOut(text) {
    auth = null;
    sessionStorage.removeItem(TOKEN_KEY);
    stopEvents();
    $("who").hidden = true;
    $("nav").hidden = true;
    show("signin");
    if (text) say(text);
  }

  // probe asks for the jobs list to learn whether the current way of
  // signing in works.
  let probing = false;
  async function probe(how) {
    auth = how;
    probing = true;
    try {
      await api("GET", "/jobs?limit=1");
      return true;
    } catch (e) {
      auth = null;
      return false;
    } finally {
      probing = false;
    }
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const user = $("login-user").value.trim();
    try {
      const r = await api("POST", "/login", { username: user, password: $("login-password").value, mode: $("login-mode").value });
      $("login-password").value = "";
      sessionStorage.setItem(TOKEN_KEY, r.token);
      signedIn("token", r.username + " (" + r.mode + ")");
    } catch (e) {
      say("Sign-in failed: " + e.message);
    }
  });

  $("token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    if (await probe("token")) {
      signedIn("token", "signed in with a token");
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      say("That token is not a live session: sign in again to get one.");
    }
  });

  $("signout").addEventListener("click", async () => {
    try {
      if (auth === "token") await api("POST", "/logout");
      else if (auth === "cookie") {
        await fetch("../rhn/manager/api/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", credentials: "same-origin" });
      }
    } catch (e) {
      // Signed out anyway: the token is forgotten below.
    }
    signedOut("");
    say("Signed out.", true);
  });

  // ---- pages -------------------------------------------------------------

  const PAGES = ["signin", "rollouts", "rollout", "jobs", "job", "new"];

  function show(page) {
    for (const p of PAGES) $(p).hidden = p !== page;
    for (const [id, pages] of [["nav-rollouts", ["rollouts", "rollout"]], ["nav-jobs", ["jobs", "job"]], ["nav-new", ["new"]]]) {
      $(id).classList.toggle("current", pages.includes(page));
    }
  }

  // route shows the page the location's hash names: #/rollouts,
  // #/rollouts/ID, #/jobs, #/jobs/ID, #/new.
  // notice is said once the next page is shown.
  let notice = "";

  function route() {
    if (!auth) return;
    let parts;
    try {
      parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    } catch (e) {
      parts = []; // a malformed hash: the rollouts list
    }
    stopEvents();
    say(notice, true);
    notice = "";
    const id = parts[1];
    switch (parts[0]) {
      case "jobs":
        return id ? showJob(id) : showJobs();
      case "new":
        return show("new");
      case "rollouts":
        if (id) return showRollout(id);
    }
    return showRollouts();
  }
  window.addEventListener("hashchange", route);

  function link(hash) {
    return () => {
      location.hash = hash;
    };
  }

  function failed(what) {
    return (e) => {
      if (e.status !== 401) say(what + ": " + e.message);
    };
  }

  // ---- rollouts ----------------------------------------------------------

  function tally(targets) {
    const n = {};
    for (const t of targets || []) n[t.status] = (n[t.status] || 0) + 1;
    return Object.entries(n).map(([s, k]) => k + " " + s).join(", ");
  }

  // showList shows the list page of kind ("rollouts" or "jobs"): a row
  // per item, newest first, linked to its page; cells gives the row's
  // cells after the id.
  async function showList(kind, cells) {
    show(kind);
    let data;
    try {
      data = await api("GET", "/" + kind + "?limit=100");
    } catch (e) {
      return failed("Listing " + kind)(e);
    }
    const body = clear($(kind + "-body"));
    for (const item of data[kind] || []) {
      const hash = "#/" + kind + "/" + encodeURIComponent(item.id);
      body.append(el("tr", { class: "link", dataset: { id: item.id }, onclick: link(hash) },
        el("td", {}, el("a", { href: hash }, el("code", {}, item.id))),
        ...cells(item).map((c) => el("td", {}, c))));
    }
    $(kind + "-empty").hidden = body.children.length > 0;
  }

  function showRollouts() {
    return showList("rollouts", (r) => [statusBadge(r.status), r.reason || "", tally(r.targets), when(r.created), when(r.updated)]);
  }
  $("rollouts-refresh").addEventListener("click", () => showRollouts());

  // The rollout on screen: its last view, its cells by target, the
  // selected server.
  const cur = { id: null, view: null, cells: new Map(), selected: null, refreshTimer: null };

  async function showRollout(id) {
    show("rollout");
    Object.assign(cur, { id, view: null, cells: new Map(), selected: null });
    $("rollout-id").textContent = id;
    badge($("rollout-status"), "");
    clear($("grid"));
    $("server").hidden = true;
    drawLegend();
    if (await loadRollout()) startEvents(id);
  }

  async function loadRollout() {
    const id = cur.id;
    let v;
    try {
      v = await api("GET", "/rollouts/" + encodeURIComponent(id));
    } catch (e) {
      failed("Reading the rollout")(e);
      return false;
    }
    if (cur.id !== id) return false; // another page since
    cur.view = v;
    drawRollout(v);
    return true;
  }

  // refreshSoon reads the whole rollout again once a burst of events has
  // passed (an event says a state changed; the record has the objects).
  function refreshSoon() {
    clearTimeout(cur.refreshTimer);
    cur.refreshTimer = setTimeout(loadRollout, 250);
  }

  function drawLegend() {
    const lg = clear($("legend"));
    for (const s of SERVER_STATES) lg.append(el("span", {}, el("span", { class: "swatch", dataset: { status: s } }), s));
  }

  function drawRollout(v) {
    badge($("rollout-status"), v.status);
    $("rollout-reason").textContent = v.reason || "";
    const c = v.counts || {};
    const facts = clear($("rollout-facts"));
    const fact = (k, val) => facts.append(el("dt", {}, k), el("dd", {}, val));
    fact("User", v.user || "");
    fact("Owner", v.owner || "");
    fact("Created", when(v.created));
    fact("Updated", when(v.updated));
    fact("Documents", el("code", {}, (v.documentsHash || "").slice(0, 16)));
    fact("Objects", ["created", "updated", "unchanged", "failed", "conflict", "blocked", "unreachable", "skipped"]
      .map((k) => k + " " + (c[k] || 0)).join(", "));
    fact("Servers", tally(v.targets));

    const byTarget = new Map((v.targets || []).map((t) => [t.target, t]));
    const grid = clear($("grid"));
    cur.cells = new Map();
    for (const w of v.waves || []) {
      const ws = statusBadge(w.status);
      const cells = el("div", { class: "cells" });
      for (const name of w.targets || []) {
        const t = byTarget.get(name) || { target: name, status: "pending" };
        const cell = el("button", { type: "button", class: "cell", title: name, dataset: { target: name, status: t.status } }, name);
        cell.addEventListener("click", () => selectServer(name));
        if (name === cur.selected) cell.classList.add("selected");
        cur.cells.set(name, cell);
        cells.append(cell);
      }
      grid.append(el("div", { class: "wave", dataset: { wave: w.index, status: w.status } },
        el("div", { class: "wave-label" }, (w.index === 0 ? "canary " : "wave " + w.index + " "), ws), cells));
    }
    const failures = (v.targets || []).some((t) => ["failed", "unreachable", "deferred", "in-doubt"].includes(t.status));
    $("act-resume").disabled = !["paused", "halted"].includes(v.status);
    $("act-retry").disabled = v.status === "aborted" || !failures;
    $("act-abort").disabled = !ACTIVE.includes(v.status);

    const log = clear($("rollout-log"));
    for (const e of v.log || []) log.append(el("li", {}, when(e.at) + "  " + e.event + (e.by ? "  (" + e.by + ")" : "")));
    if (cur.selected) drawServer(byTarget.get(cur.selected));
  }

  function selectServer(name) {
    cur.selected = name;
    for (const [n, c] of cur.cells) c.classList.toggle("selected", n === name);
    const t = (cur.view && cur.view.targets || []).find((x) => x.target === name);
    drawServer(t || { target: name, status: "pending", objects: [] });
  }

  function drawServer(t) {
    if (!t) return;
    $("server").hidden = false;
    $("server-name").textContent = t.target;
    badge($("server-status"), t.status);
    $("server-facts").textContent = "id " + t.serverId + ", wave " + t.wave + ", attempt " + t.attempt;
    $("server-error").textContent = t.error || "";
    $("server-error").hidden = !t.error;
    const body = clear($("server-objects"));
    for (const o of t.objects || []) {
      const steps = el("ol", { class: "steps" });
      for (const s of o.steps || []) {
        steps.append(el("li", {}, s.call + " " + Math.round(s.durationMs || 0) + " ms" +
          (s.faultCode ? " — fault " + s.faultCode + ": " + (s.faultString || "") : "")));
      }
      const outcome = statusBadge(o.outcome);
      const fault = o.faultCode ? o.faultCode + ": " + (o.faultString || "") : (o.reason || "");
      body.append(el("tr", { dataset: { object: o.kind + "/" + o.name } },
        el("td", {}, o.kind + "/" + o.name),
        el("td", {}, outcome, o.partial ? " (partial)" : ""),
        el("td", {}, steps),
        el("td", { class: o.faultCode ? "fault" : "" }, fault)));
    }
    $("server-objects-empty").hidden = body.children.length > 0;
  }

  // ---- the events stream -------------------------------------------------
  //
  // The browser's own SSE client cannot send an Authorization header, so the stream is read
  // with fetch() and a streaming body reader, and parsed as server-sent
  // events here (the format is lines of "field: value", events separated by
  // a blank line).

  let stream = null; // {id, controller}

  function stopEvents() {
    if (stream) stream.controller.abort();
    stream = null;
    $("rollout-live").hidden = true;
  }

  async function startEvents(id) {
    stopEvents();
    const controller = new AbortController();
    const me = { id, controller };
    stream = me;
    try {
      const r = await fetch(API + "/rollouts/" + encodeURIComponent(id) + "/events", {
        headers: Object.assign(headers(false), { Accept: "text/event-stream" }),
        credentials: "same-origin", cache: "no-store", signal: controller.signal,
      });
      if (!r.ok || !r.body) throw new APIError(r.status, null);
      $("rollout-live").hidden = false;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, "\n");
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
          }
          if (data && stream === me) onEvent(JSON.parse(data));
        }
      }
    } catch (e) {
      if (e.name !== "AbortError" && stream === me) say("The live view stopped: " + e.message + " (Refresh to see the latest).");
    }
    if (stream === me) {
      stream = null;
      $("rollout-live").hidden = true;
      loadRollout(); // the stream ends when the rollout has finished: the final state
    }
  }

  function onEvent(e) {
    if (e.rollout !== cur.id) return;
    if (e.type === "server" && e.server) {
      const cell = cur.cells.get(e.server.target);
      if (cell) cell.dataset.status = e.status;
    } else if (e.type === "rollout") {
      badge($("rollout-status"), e.status);
      $("rollout-reason").textContent = e.reason || "";
    } else if (e.type === "wave") {
      const w = $("grid").querySelector('.wave[data-wave="' + Number(e.wave) + '"]');
      if (w) w.dataset.status = e.status;
    }
    refreshSoon();
  }

  // ---- decisions: resume, retry, abort ----------------------------------

  function decide(op, bodyOf) {
    return async () => {
      const id = cur.id;
      try {
        const v = await api("POST", "/rollouts/" + encodeURIComponent(id) + "/" + op, bodyOf ? bodyOf() : {});
        if (cur.id !== id) return;
        cur.view = v;
        drawRollout(v);
        say("");
        if (!stream && ACTIVE.includes(v.status)) startEvents(id);
      } catch (e) {
        say(op + " refused: " + e.message);
      }
    };
  }

  $("act-resume").addEventListener("click", decide("resume", () => {
    const b = $("resume-budget").value.trim();
    return b ? { maxFailures: amount(b) } : {};
  }));
  $("act-retry").addEventListener("click", decide("retry"));
  $("act-abort").addEventListener("click", () => {
    if (window.confirm("Abort rollout " + cur.id + "? Servers not started are skipped; nothing is undone.")) decide("abort")();
  });

  // amount is a count (a number) or a percentage ("10%", a string).
  function amount(s) {
    s = s.trim();
    return /^\d+$/.test(s) ? Number(s) : s;
  }

  // ---- starting a rollout ------------------------------------------------

  $("new-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const req = {
      // The text as pasted: the gateway reads YAML (JSON is YAML), several
      // documents or a list of them.
      documents: $("new-documents").value,
      targets: $("new-targets").value.split(",").map((s) => s.trim()).filter(Boolean),
    };
    if ($("new-order").value) req.order = $("new-order").value;
    if ($("new-canary").value !== "") req.canary = Number($("new-canary").value);
    const waves = $("new-waves").value.split(",").map((s) => s.trim()).filter(Boolean).map(amount);
    if (waves.length) req.waves = waves;
    if ($("new-max-failures").value.trim()) req.maxFailures = amount($("new-max-failures").value);
    if ($("new-pause").checked) req.pauseAfterCanary = true;
    try {
      const r = await api("POST", "/rollouts", req);
      if (r.durable === false) notice = "Started. The gateway keeps rollouts in memory: this one does not survive a restart of the gateway.";
      location.hash = "#/rollouts/" + encodeURIComponent(r.id);
    } catch (e) {
      const p = e.problem || {};
      const more = Array.isArray(p.errors) ? "\n" + p.errors.map((x) => typeof x === "string" ? x : JSON.stringify(x)).join("\n") : "";
      say("The rollout was not started: " + e.message + more);
    }
  });

  // ---- jobs --------------------------------------------------------------

  function showJobs() {
    return showList("jobs", (j) => [el("code", {}, j.method), statusBadge(j.status), String(j.total), String(j.succeeded),
      String(j.failed), when(j.started)]);
  }
  $("jobs-refresh").addEventListener("click", () => showJobs());

  // A job's per-server rows read like a fan-out's results (serverName,
  // outcome, value or fault), plus valueOmitted: why a value was not kept.
  function short(v) {
    const s = typeof v === "string" ? v : JSON.stringify(v);
    return s.length > 500 ? s.slice(0, 500) + "…" : s;
  }

  async function showJob(id) {
    show("job");
    $("job-id").textContent = id;
    let j;
    try {
      j = await api("GET", "/jobs/" + encodeURIComponent(id));
    } catch (e) {
      return failed("Reading the job")(e);
    }
    badge($("job-status"), j.status);
    const facts = clear($("job-facts"));
    const fact = (k, val) => facts.append(el("dt", {}, k), el("dd", {}, val));
    fact("Method", el("code", {}, j.method));
    fact("User", j.user || "");
    fact("Replica", j.replica || "");
    fact("Started", when(j.started));
    fact("Ended", when(j.ended));
    fact("Servers", j.total + " (" + j.succeeded + " succeeded, " + j.failed + " failed, " + (j.total - j.finished) + " unfinished)");
    const body = clear($("job-body"));
    for (const t of j.targets || []) {
      const outcome = t.outcome;
      const value = t.value;
      const b = statusBadge(outcome);
      let detail = "";
      if (t.faultCode || t.faultString) detail = "fault " + (t.faultCode || "") + ": " + (t.faultString || "");
      else if (t.error) detail = t.error;
      else if (value !== undefined) detail = short(value);
      else if (t.valueOmitted) detail = "(" + t.valueOmitted + ")";
      body.append(el("tr", { dataset: { server: String(t.serverId) } },
        el("td", {}, t.serverName || (t.hub ? "hub" : "")),
        el("td", {}, String(t.serverId)),
        el("td", {}, b),
        el("td", {}, (t.durationMs || 0) + " ms"),
        el("td", {}, String(t.attempts || 0)),
        el("td", { class: "value" + (t.faultCode || t.error ? " fault" : "") }, detail)));
    }
  }

  // ---- start -------------------------------------------------------------

  (async function start() {
    if (sessionStorage.getItem(TOKEN_KEY) && (await probe("token"))) return signedIn("token", "signed in with a token");
    sessionStorage.removeItem(TOKEN_KEY);
    // A session of Uyuni's HTTP API in this browser: its cookie is sent
    // with every request to the gateway.
    if (await probe("cookie")) return signedIn("cookie", "signed in with the Uyuni session cookie");
    signedOut("");
  })();
})();
