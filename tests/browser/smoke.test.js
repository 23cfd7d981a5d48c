// smoke.test.js - the browser tooling itself works: Debian's Chromium starts, renders an inline
// page and runs its script, so a failure in the real tests is about bise's pages.
'use strict';
const { run, check } = require('./lib');

run('smoke', async (context) => {
  const page = await context.newPage();
  await page.setContent('<p id="p">x</p><script>document.getElementById("p").textContent = "ran";</script>');
  check((await page.textContent('#p')) === 'ran', 'inline script ran');
});
