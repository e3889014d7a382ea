// Live updates of an app's timeline: each event recorded while the page is
// open appears at the top (and an updated one changes in place), from the
// server-sent change stream, authenticated by the session cookie. Values
// are set as text, never parsed as HTML.
(function () {
  "use strict";
  var table = document.getElementById("timeline");
  if (!table || !table.dataset.stream || typeof EventSource === "undefined") {
    return;
  }
  var body = table.tBodies[0];
  var status = document.getElementById("live-status");
  var owner = table.dataset.owner;
  var app = table.dataset.app;
  var wanted = {
    type: (table.dataset.type || "").toUpperCase(),
    branch: table.dataset.branch || "",
    env: table.dataset.env || ""
  };

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function segment(text) {
    return encodeURIComponent(String(text));
  }

  function matches(event) {
    return (!wanted.type || event.event_type === wanted.type) &&
      (!wanted.branch || event.branch === wanted.branch) &&
      (!wanted.env || event.env_name === wanted.env);
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content) {
      td.appendChild(content);
    }
    row.appendChild(td);
    return td;
  }

  function text(value) {
    return document.createTextNode(value === null || value === undefined ? "" : String(value));
  }

  function link(href, value, code) {
    var a = document.createElement("a");
    a.href = href;
    if (code) {
      var c = document.createElement("code");
      c.textContent = value;
      a.appendChild(c);
    } else {
      a.textContent = value;
    }
    return a;
  }

  function statusOf(event) {
    return event.build_status || event.deployment_status || event.incident_status || "";
  }

  function rowOf(event) {
    var base = "/-/ui/" + segment(owner) + "/apps/" + segment(app);
    var row = document.createElement("tr");
    row.dataset.eventId = String(event.event_id);
    cell(row, link(base + "/events/" + segment(event.event_id), String(event.event_id)));
    var time = document.createElement("time");
    time.dateTime = event.event_time;
    time.textContent = event.event_time;
    cell(row, time);
    cell(row, text(event.event_type));
    var badge = document.createElement("span");
    var state = statusOf(event);
    badge.className = "status status-" + state.toLowerCase();
    badge.textContent = state;
    cell(row, badge);
    cell(row, event.env_name ? link("/-/ui/" + segment(owner) + "/envs/" + segment(event.env_name), event.env_name) : null);
    cell(row, text(event.release_version));
    cell(row, text(event.branch));
    cell(row, event.commit_id ? link(base + "/commits/" + segment(event.commit_id), String(event.commit_id).slice(0, 12), true) : null);
    cell(row, text(event.commit_msg || event.title)).className = "message";
    return row;
  }

  var source = new EventSource(table.dataset.stream);
  source.onopen = function () {
    if (status) {
      status.classList.add("connected");
    }
    say("Live: new events appear at the top as they are recorded.");
  };
  source.onerror = function () {
    if (status) {
      status.classList.remove("connected");
    }
    say("Live updates paused; reconnecting…");
  };
  source.addEventListener("change", function (message) {
    var change;
    try {
      change = JSON.parse(message.data);
    } catch (err) {
      return;
    }
    var event = change && change.event;
    if (!event || event.app_name !== app || !matches(event)) {
      return;
    }
    var row = rowOf(event);
    var existing = body.querySelector('tr[data-event-id="' + String(Number(event.event_id)) + '"]');
    if (existing) {
      existing.replaceWith(row);
    } else {
      row.className = "live-new";
      body.insertBefore(row, body.firstChild);
    }
    say("Live: event " + event.event_id + " " + (existing ? "updated" : "recorded") + ".");
  });
})();
