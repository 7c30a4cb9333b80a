// Personal signatures through NCALayer (issue 15). For each signable form ([data-sign]):
// ask the page's own step for the exact bytes to sign (the form posted with _statement), have
// NCALayer sign them (module kz.gov.pki.knca.basics, method sign, a detached CMS), put the CMS
// in the form's signature field and send the form. Nothing runs without this script: the forms
// still work unsigned where the state body allows it. Self-hosted, no inline code (CSP).
(() => {
  "use strict";
  const url = document.body.dataset.ncalayer;
  if (!url) return;

  function ncalayerSign(data, iin, locale) {
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new WebSocket(url);
      } catch (error) {
        reject(error);
        return;
      }
      socket.onopen = () => {
        socket.send(JSON.stringify({
          module: "kz.gov.pki.knca.basics",
          method: "sign",
          args: {
            allowedStorages: ["PKCS12", "AKKaztokenStore", "AKKZIDCardStore", "AKEToken"],
            format: "cms",
            data: data,
            signingParams: { decode: true, encapsulate: false, digested: false },
            signerParams: { extKeyUsageOids: ["1.3.6.1.5.5.7.3.4"], iin: iin },
            locale: locale,
          },
        }));
      };
      socket.onmessage = (event) => {
        let answer;
        try {
          answer = JSON.parse(event.data);
        } catch (error) {
          socket.close();
          reject(error);
          return;
        }
        if (answer.result && answer.result.version) return; // NCALayer's greeting
        socket.close();
        if (answer.status === true && answer.body && answer.body.result) {
          const result = answer.body.result;
          resolve(Array.isArray(result) ? result[0] : result);
        } else {
          reject(new Error(answer.message || answer.code || "NCALayer"));
        }
      };
      socket.onerror = () => reject(new Error(""));
    });
  }

  for (const block of document.querySelectorAll("[data-sign]")) {
    const form = block.closest("form");
    const button = block.querySelector("[data-sign-button]");
    const status = block.querySelector("[data-sign-status]");
    const field = block.querySelector("input[name=signature]");
    if (!form || !button || !status || !field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      status.textContent = block.dataset.working;
      const body = new FormData(form);
      body.set("_statement", "1");
      body.delete("dev_sign");
      try {
        const response = await fetch(form.action || window.location.href, {
          method: "POST",
          body: body,
          credentials: "same-origin",
        });
        if (response.redirected) { // the step came too late, or was refused: read why there
          window.location.assign(response.url);
          return;
        }
        const type = response.headers.get("Content-Type") || "";
        if (!response.ok || !type.startsWith("application/json")) {
          status.textContent = block.dataset.formErrors;
          return;
        }
        const { statement, iin } = await response.json();
        field.value = await ncalayerSign(statement, iin, document.documentElement.lang);
        status.textContent = block.dataset.signed;
        form.requestSubmit(form.querySelector("[data-sign-submit]") || undefined);
      } catch (error) {
        status.textContent = `${block.dataset.failed} ${error.message || ""}`.trim();
      }
    });
  }
})();
