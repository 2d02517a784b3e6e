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
  // Importing a reference list: the kind's usual issuer filled in while the field is empty.
  const kind = document.querySelector("#import select[name='kind']");
  const issuer = document.querySelector("#import input[name='issuer']");
  if (kind && issuer) kind.addEventListener("change", () => {
    const usual = kind.selectedOptions[0] && kind.selectedOptions[0].dataset.issuer;
    if (usual && !issuer.value) issuer.value = usual;
  });
  // The structured policy editor: checked by the guarantee service as one types (nothing is
  // saved until 保存草稿); each problem shown next to its field and in the list above.
  const editor = document.getElementById("structured");
  if (editor && editor.dataset.check) {
    const box = document.getElementById("edit-errors");
    let timer = null;
    const check = async () => {
      const body = new URLSearchParams(new FormData(editor));
      try {
        const answer = await fetch(editor.dataset.check, { method: "POST", body });
        if (!answer.ok) return;
        const { errors } = await answer.json();
        editor.querySelectorAll(".field").forEach((field) => {
          const message = errors[field.dataset.field] || "";
          field.classList.toggle("invalid", Boolean(message));
          const out = field.querySelector(".error");
          if (out) out.textContent = message;
        });
        const list = box.querySelector("ul");
        list.replaceChildren(...Object.values(errors).map((m) => {
          const item = document.createElement("li");
          item.textContent = m;
          return item;
        }));
        box.hidden = Object.keys(errors).length === 0;
      } catch (_) { /* offline: checked on save */ }
    };
    editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 500); });
  }
  // A what-if still running: look again in a moment.
  const status = document.getElementById("whatif-status");
  if (status && ["queued", "running"].includes(status.dataset.status)) {
    setTimeout(() => window.location.reload(), 1500);
  }
})();
