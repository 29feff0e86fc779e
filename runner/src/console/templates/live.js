// The one script of the console: a run's log followed live through server-sent events
// (the page reads without it). The server sends each line once; the browser resumes
// after the last line it saw when the connection drops.
(function () {
  "use strict";
  var log = document.getElementById("log");
  if (!log || !window.EventSource) { return; }
  var more = document.getElementById("log-more");
  if (more) { more.remove(); }
  log.textContent = "";
  var state = document.getElementById("log-state");
  var source = new EventSource(log.dataset.events);
  source.onmessage = function (event) {
    var follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(document.createTextNode(event.data + "\n"));
    if (follow) { log.scrollTop = log.scrollHeight; }
  };
  source.addEventListener("end", function (event) {
    source.close();
    if (state) {
      state.textContent = "the run has ended: " + event.data;
      var status = document.getElementById("run-status");
      if (status) { status.textContent = event.data; status.className = "status " + event.data; }
      var cancel = document.getElementById("cancel");
      if (cancel) { cancel.closest("form").remove(); }
      // The page was made while the run was live: made again, it has every step's result.
      window.setTimeout(function () { window.location.reload(); }, 1000);
    }
  });
})();
