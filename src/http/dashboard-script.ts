/**
 * The page's only script: every few seconds it fetches the queue as JSON and redraws its rows, with textContent
 * only (never HTML), so nothing a user named can become markup. It mirrors rowHtml() in dashboard.ts.
 */
export const QUEUE_POLL_MS = 3000;

export const DASHBOARD_SCRIPT = `(() => {
  const rows = document.getElementById("queue-rows");
  const counts = document.getElementById("queue-counts");
  const stamp = document.getElementById("queue-updated");
  const td = (tr, text, cls) => {
    const cell = document.createElement("td");
    if (cls) cell.className = cls;
    cell.textContent = text;
    tr.append(cell);
    return cell;
  };
  const isolated = (text) => {
    const bdi = document.createElement("bdi");
    bdi.textContent = text;
    return bdi;
  };
  const render = (q) => {
    const list = q.jobs.map((j) => {
      const tr = document.createElement("tr");
      tr.dataset.job = String(j.id);
      tr.dataset.stage = j.stage;
      td(tr, "#" + j.id, "num");
      td(tr, "").append(isolated(j.user));
      td(tr, "", "name").append(isolated(j.name));
      td(tr, j.stage, "stage stage-" + j.stage);
      const cell = td(tr, "", "progress");
      const bar = document.createElement("progress");
      bar.max = 100;
      if (j.percent !== null) bar.value = j.percent;
      else if (!j.running) bar.value = 0;
      cell.append(bar, document.createTextNode(j.percent !== null ? " " + j.percent.toFixed(1) + " %" : ""));
      td(tr, j.bytes, "num");
      td(tr, j.speed, "num");
      td(tr, j.eta, "num");
      td(tr, j.position === null ? "" : String(j.position), "num");
      return tr;
    });
    if (list.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      td(tr, "The queue is empty.").colSpan = 9;
      list.push(tr);
    }
    rows.replaceChildren(...list);
    counts.textContent = q.running + " running, " + q.waiting + " waiting";
    stamp.textContent = "updated " + q.at.slice(11, 19) + " UTC";
  };
  const poll = async () => {
    try {
      const res = await fetch("/dashboard/queue.json", { cache: "no-store", credentials: "same-origin" });
      if (res.ok) render(await res.json());
      else stamp.textContent = "refresh refused (" + res.status + ")";
    } catch {
      stamp.textContent = "Medusa is not answering";
    }
    setTimeout(poll, ${QUEUE_POLL_MS});
  };
  setTimeout(poll, ${QUEUE_POLL_MS});
})();`;
