// 财政局工作台: ask before what cannot be undone. The pages work without this script.
(function () {
  "use strict";
  const confirmations = {
    "closing": "确定关闭该批次？未经银行批准的贷款将被拒绝，且不能撤销。",
    "approval": "确定审批通过该批次？",
    "opening": "确定开放该批次？银行将收到批次通知。",
  };
  document.querySelectorAll("form[action*='/batches/']").forEach((form) => {
    const action = form.getAttribute("action").split("/").pop();
    const question = confirmations[action];
    if (question) form.addEventListener("submit", (event) => {
      if (!window.confirm(question)) event.preventDefault();
    });
  });
  // A what-if still running: look again in a moment.
  const status = document.getElementById("whatif-status");
  if (status && ["queued", "running"].includes(status.dataset.status)) {
    setTimeout(() => window.location.reload(), 1500);
  }
})();
