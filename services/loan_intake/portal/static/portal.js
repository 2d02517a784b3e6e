// 企业端: checks as the user types, the SME size class, a draft kept across reloads.
// Progressive enhancement only: the server checks everything again on submit.
(function () {
  "use strict";
  const prefix = "/portal/";

  function fieldOf(input) { return input.closest(".field"); }

  function show(input, message, ok) {
    const field = fieldOf(input);
    if (!field) return;
    const error = field.querySelector(".error");
    field.classList.toggle("invalid", Boolean(message));
    field.classList.toggle("ok", Boolean(ok) && !message);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (error) error.textContent = message || "";
    const hint = field.querySelector(".hint");
    if (hint && ok) hint.textContent = ok;
  }

  function debounce(fn, ms) {
    let timer = null;
    return function (...args) { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function localCheck(input) {
    const value = input.value.trim();
    if (!value) {
      return input.required ? "此项必填" : "";
    }
    if (input.hasAttribute("data-term")) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 120) return "贷款期限应在 1–120 个月之间";
    }
    if (input.type === "number" && input.name.endsWith("employees")) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) return "请填写不小于 0 的整数";
    }
    if (input.hasAttribute("data-past")) {
      const today = new Date().toISOString().slice(0, 10);
      if (value > today) return "成立日期不能晚于今天";
      if (value < "1949-01-01") return "成立日期不合理";
    }
    return "";
  }

  const checkUscc = debounce(async function (input) {
    const value = input.value.trim().toUpperCase();
    if (value.length < 18) {
      show(input, value.length ? `还差 ${18 - value.length} 位` : (input.required ? "此项必填" : ""));
      return;
    }
    try {
      const answer = await fetch(`${prefix}check/uscc?value=${encodeURIComponent(value)}`);
      const result = await answer.json();
      show(input, result.valid ? "" : result.message, result.valid ? result.message : "");
    } catch (_) { /* offline: the server checks on submit */ }
  }, 200);

  // Amounts are read by the server (元 or 万, with separators): the page shows its reading.
  const checkAmount = debounce(async function (input) {
    const value = input.value.trim();
    if (!value) return;
    try {
      const answer = await fetch(`${prefix}check/amount?value=${encodeURIComponent(value)}`);
      const result = await answer.json();
      show(input, result.valid ? "" : result.message, result.valid ? `即 ${result.shown}` : "");
    } catch (_) { /* offline: the server checks on submit */ }
  }, 250);

  const sizeClass = debounce(async function (form) {
    const out = document.getElementById("size-class");
    if (!out) return;
    const get = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    const sector = get("enterprise.sector");
    const employees = get("enterprise.employees");
    const revenue = get("enterprise.annual_revenue");
    const assets = get("enterprise.total_assets");
    if (!sector || employees === "" || revenue === "" || assets === "") {
      out.textContent = "填写行业、人数、营业收入和资产后显示";
      return;
    }
    const query = new URLSearchParams({ sector, employees, revenue, assets });
    try {
      const result = await (await fetch(`${prefix}check/size?${query}`)).json();
      out.textContent = result.label || "暂无法判断，请检查所填数字";
    } catch (_) { /* offline */ }
  }, 200);

  // --- drafts -------------------------------------------------------------------------------
  function draftKey(form) { return `picidai-draft:${form.dataset.draft}`; }
  const SKIP = new Set(["_csrf", "idempotency_key"]);

  function saveDraft(form) {
    const values = {};
    for (const el of form.elements) {
      if (!el.name || SKIP.has(el.name)) continue;
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    try { localStorage.setItem(draftKey(form), JSON.stringify(values)); } catch (_) { /* full */ }
  }

  function restoreDraft(form) {
    // The server's answer wins: after a refused submit the page carries what was typed.
    if (form.querySelector(".field.invalid") || document.querySelector(".alert")) return;
    let values = null;
    try { values = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (_) { return; }
    if (!values) return;
    for (const el of form.elements) {
      if (!el.name || !(el.name in values)) continue;
      if (el.type === "checkbox") el.checked = Boolean(values[el.name]);
      else if (!el.readOnly) el.value = values[el.name];
      if (el.value && el.type !== "checkbox" && el.type !== "hidden") show(el, localCheck(el));
    }
    const note = document.createElement("p");
    note.className = "flash";
    note.setAttribute("role", "status");
    note.textContent = "已恢复上次未提交的草稿。";
    form.prepend(note);
  }

  function wire(form) {
    for (const input of form.querySelectorAll("input, select, textarea")) {
      if (input.dataset.check === "uscc") {
        input.addEventListener("input", () => {
          input.value = input.value.toUpperCase();
          checkUscc(input);
        });
        continue;
      }
      const check = () => {
        if (input.type === "checkbox" || input.type === "hidden" || input.readOnly) return;
        const message = localCheck(input);
        show(input, message);
        if (!message && input.hasAttribute("data-money")) checkAmount(input);
      };
      input.addEventListener("blur", check);
      input.addEventListener("input", () => { if (fieldOf(input)?.classList.contains("invalid")) check(); });
      if (input.hasAttribute("data-size") || input.name === "enterprise.sector") {
        input.addEventListener("input", () => sizeClass(form));
        input.addEventListener("change", () => sizeClass(form));
      }
    }
    if (form.dataset.draft) {
      restoreDraft(form);
      form.addEventListener("input", () => saveDraft(form));
      form.addEventListener("change", () => saveDraft(form));
      const clear = form.querySelector("[data-clear-draft]");
      if (clear) clear.addEventListener("click", () => {
        try { localStorage.removeItem(draftKey(form)); } catch (_) { /* ignore */ }
        window.location.reload();
      });
    }
    form.addEventListener("submit", (event) => {
      let first = null;
      for (const input of form.querySelectorAll("input[required], select[required], textarea[required], input[data-money], input[data-term], input[data-past]")) {
        if (input.readOnly) continue;
        const message = localCheck(input);
        show(input, message);
        if (message && !first) first = input;
      }
      if (first) { event.preventDefault(); first.focus(); }
    });
    sizeClass(form);
  }

  document.querySelectorAll("form[novalidate]").forEach(wire);

  // The draft is kept until the server has accepted the application (a refused submit, a
  // lost connection or a closed tab keeps it).
  if (document.querySelector("[data-submitted]")) {
    try {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith("picidai-draft:apply-")) localStorage.removeItem(key);
      }
    } catch (_) { /* storage unavailable */ }
  }

  // The unread count in the navigation (the message centre's page marks them read).
  const badge = document.getElementById("unread");
  if (badge && !location.pathname.endsWith("/messages")) {
    fetch(`${prefix}messages/unread`).then((r) => (r.ok ? r.json() : null)).then((result) => {
      if (result && result.unread > 0) {
        badge.textContent = result.unread > 99 ? "99+" : String(result.unread);
        badge.hidden = false;
        badge.setAttribute("aria-label", `${badge.textContent} 条未读`);
      }
    }).catch(() => { /* offline: no count */ });
  }

  const withdraw = document.getElementById("withdraw");
  if (withdraw) withdraw.addEventListener("submit", (event) => {
    if (!window.confirm("确定撤回该申请？撤回后不能恢复。")) event.preventDefault();
  });

  // While the application is being assessed, look again every few seconds.
  const status = document.getElementById("status");
  if (status && status.textContent.trim() === "评估中") {
    const tries = Number(sessionStorage.getItem("picidai-refresh") || "0");
    if (tries < 20) {
      sessionStorage.setItem("picidai-refresh", String(tries + 1));
      setTimeout(() => window.location.reload(), 2000);
    }
  } else {
    sessionStorage.removeItem("picidai-refresh");
  }
})();
