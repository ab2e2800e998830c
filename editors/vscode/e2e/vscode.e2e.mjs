// The baton extension in the real VS Code: code-server driven by headless Chromium.
//
// Run by scripts/e2e/vscode, which starts code-server with the extension installed and a
// workspace holding acme.brief.md (a brief without its Constraints field) and a baton.toml
// whose agent `researcher` is the loopback fake agent. Environment:
//   BATON_E2E_URL        code-server's address
//   BATON_E2E_WORKSPACE  the workspace folder
//   BATON_E2E_ARTIFACTS  where screenshots go
//   BATON_E2E_TOOLS      the folder whose node_modules holds playwright-core
//   BATON_E2E_STEPS      optional, comma-separated subset of:
//                        diagnostic,quickfix,send,palette,typing,refused,resend,cancel,
//                        pipeline,crash
//   BATON_E2E_SERVER_BIN       the baton binary the extension starts (to find its process)
//   BATON_E2E_CODE_SERVER_PID  code-server's process, whose descendant that server is
//
// Each step prints `ok <step> (<seconds>s)` or throws; the exit code says whether all passed.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const url = env("BATON_E2E_URL");
const workspace = env("BATON_E2E_WORKSPACE");
const artifacts = env("BATON_E2E_ARTIFACTS");
const tools = env("BATON_E2E_TOOLS");
const steps = (
  process.env.BATON_E2E_STEPS ||
  "diagnostic,quickfix,send,palette,typing,refused,resend,cancel,pipeline,crash"
).split(",");
const { chromium } = createRequire(path.join(tools, "package.json"))("playwright-core");

const FILE = "acme.brief.md";
const TITLE = "Scan Acme's pricing";
const AGENT = "researcher";
/** How a send's title names the researcher, a loopback server: with its host (DESIGN §7). */
const AT_AGENT = `@${AGENT} · 127\\.0\\.0\\.1:\\d+`;
const EDITOR = ".editor-group-container .monaco-editor";

fs.mkdirSync(artifacts, { recursive: true });
const userData = fs.mkdtempSync(path.join(artifacts, "..", "chromium-"));
const context = await chromium.launchPersistentContext(userData, {
  executablePath: process.env.BATON_E2E_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on("console", (message) => {
  if (message.type() === "error") consoleErrors.push(message.text());
});

let failed = false;
let current = "start";
const started = Date.now();
async function step(name, body) {
  if (name !== "open" && !steps.includes(name)) {
    console.log(`skip ${name}`);
    return;
  }
  current = name;
  const t0 = Date.now();
  await body();
  console.log(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/** The text of the visible editor lines, top to bottom, with Monaco's U+00A0 as spaces. */
async function editorText() {
  return page.evaluate((selector) => {
    const editor = document.querySelector(selector);
    if (!editor) return "";
    const lines = [...editor.querySelectorAll(".view-lines .view-line")].map((line) => ({
      top: parseFloat(line.style.top || "0"),
      text: line.textContent || "",
    }));
    lines.sort((a, b) => a.top - b.top);
    return lines.map((line) => line.text.replace(/\u00a0/g, " ")).join("\n");
  }, EDITOR);
}

async function waitForText(predicate, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = await editorText();
    if (predicate(text)) return text;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what}; the editor shows:\n${text}`);
}

/** Clicks the brief's heading line, opens the Ctrl+. menu and clicks the row matching `label`. */
async function codeAction(label) {
  const heading = page.locator(`${EDITOR} .view-line`, { hasText: TITLE.split("'")[0] }).first();
  await heading.click({ position: { x: 40, y: 5 } });
  await page.keyboard.press("End");
  const widget = page.locator(".action-widget:not(.action-list-submenu-panel)");
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press("Control+.");
    try {
      await widget.waitFor({ state: "visible", timeout: 5000 });
      break;
    } catch (error) {
      if (attempt === 2) throw error;
    }
  }
  const row = widget.locator(".monaco-list-row", { hasText: label }).first();
  try {
    await row.waitFor({ state: "visible", timeout: 15000 });
  } catch (error) {
    const rows = await widget.locator(".monaco-list-row").allTextContents();
    throw new Error(`no code action matching ${label}; the menu offers: ${JSON.stringify(rows)}`);
  }
  await row.click();
}


/** Runs a command from the Command Palette (F1), picking the row whose label matches. */
async function palette(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 10000 });
  await row.click();
}

/** Picks the row matching `label` in the open quick pick. */
async function quickPick(label) {
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: label }).first();
  await row.waitFor({ state: "visible", timeout: 15000 });
  await row.click();
}

/** The label of the active editor tab. */
async function activeTab() {
  const tab = page.locator(".editor-group-container.active .tab.active").first();
  await tab.waitFor({ timeout: 10000 });
  return (await tab.getAttribute("data-resource-name")) ?? "";
}

async function waitForTab(predicate, what, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let label = "";
  while (Date.now() < deadline) {
    label = await activeTab().catch(() => "");
    if (predicate(label)) return label;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what}; the active tab is ${JSON.stringify(label)}`);
}

/** Brings the brief's editor back to the front. */
async function showBrief() {
  const tab = page.locator(".tabs-container .tab", { hasText: FILE }).first();
  await tab.click();
  await waitForTab((label) => label === FILE, FILE);
  await page.locator(`${EDITOR} .view-line`, { hasText: TITLE.split("'")[0] }).first().click();
}

/** The run ids of the document's blocks, and of those whose marker says `status`. */
function runIds(text, status) {
  if (status) {
    const pattern = new RegExp(`<!-- baton:output run=(\\S+) [^>]*status=${status}`, "g");
    return [...text.matchAll(pattern)].map((match) => match[1]);
  }
  // Opening markers only: the closing one names its run too (`<!-- /baton:output run=ID -->`).
  return [...text.matchAll(/<!-- baton:output run=(\S+)/g)].map((match) => match[1]);
}

/** A notification toast whose text matches `text`, once visible. */
async function toast(text, timeout = 20000) {
  const found = page.locator(".notifications-toasts .notification-toast", { hasText: text }).first();
  await found.waitFor({ state: "visible", timeout });
  return found;
}

/** The text of every notification toast shown now. */
async function toasts() {
  return (await page.locator(".notifications-toasts .notification-toast").allTextContents()).join("\n");
}

async function clearNotifications() {
  await palette("Notifications: Clear All Notifications");
}

/** Sends the brief to the researcher from the Ctrl+. menu; returns the new run's id. */
async function sendFromMenu() {
  const before = new Set(runIds(await editorText()));
  await codeAction(new RegExp(`^Send "?${TITLE}"? to ${AT_AGENT}$`));
  const text = await waitForText(
    (text) => runIds(text, "running").some((id) => !before.has(id)) && /word\d+/.test(text),
    "the new run streaming",
  );
  return runIds(text, "running").find((id) => !before.has(id));
}

/** The processes of `BATON_E2E_SERVER_BIN lsp` that this test's code-server started. */
function serverPids() {
  const bin = env("BATON_E2E_SERVER_BIN");
  const root = Number(env("BATON_E2E_CODE_SERVER_PID"));
  const parent = (pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      return 0;
    }
  };
  const ours = (pid) => {
    for (let at = pid, hops = 0; at > 1 && hops < 64; at = parent(at), hops++) {
      if (at === root) return true;
    }
    return false;
  };
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0] === bin && argv[1] === "lsp" && ours(pid);
      } catch {
        return false;
      }
    });
}

/** The saved run file of `run`, as the journal has it. */
function journalled(run) {
  return fs.readFileSync(path.join(workspace, ".baton", "runs", `${run}.jsonl`), "utf8");
}

async function screenshot(name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

try {
  await step("open", async () => {
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: FILE });
    await row.first().waitFor({ state: "visible", timeout: 60000 });
    await row.first().dblclick();
    await page.locator(`${EDITOR} .view-line`, { hasText: "Objective" }).first().waitFor({
      timeout: 30000,
    });
  });

  await step("diagnostic", async () => {
    await page.locator(`${EDITOR} .squiggly-error`).first().waitFor({ timeout: 60000 });
    await page.keyboard.press("Control+Shift+M");
    const marker = page.locator(".markers-panel .monaco-list-row", { hasText: "Constraints" });
    await marker.first().waitFor({ timeout: 20000 });
    const problem = (await marker.first().textContent()) ?? "";
    if (!/baton/.test(problem)) throw new Error(`the Problems entry does not name baton: ${problem}`);
    await screenshot("vscode-diagnostic");
    await page.keyboard.press("Control+Shift+M"); // hide the panel again
  });

  await step("quickfix", async () => {
    await codeAction(/Insert field `?Constraints`?/);
    await waitForText((text) => /^## Constraints\s*$/m.test(text), "the inserted ## Constraints");
    await page.locator(`${EDITOR} .squiggly-error`).first().waitFor({
      state: "detached",
      timeout: 20000,
    });
    await screenshot("vscode-quickfix");
  });

  await step("send", async () => {
    // The title may be quoted ("Send \"Title\" to @agent"); docs/editor-protocol.md writes it bare.
    await codeAction(new RegExp(`^Send "?${TITLE}"? to ${AT_AGENT}$`));
    // While the answer streams, the status bar item shows the run (from `baton/runs`).
    const running = page.locator(".statusbar-item", { hasText: "baton: 1 running" });
    await running.first().waitFor({ state: "visible", timeout: 20000 });
    // A picture mid-stream, when the timing allows one (not an assertion).
    await waitForText((text) => /word\d+/.test(text) || /status=done/.test(text), "the first words");
    if (!/status=done/.test(await editorText())) await screenshot("vscode-streaming");
    // The code lens shows the running run (docs/editor-protocol.md); reported, not asserted.
    const lenses = page.locator(`${EDITOR} .codelens-decoration`);
    let seen = new Set();
    for (let i = 0; i < 50 && !/status=done/.test(await editorText()); i++) {
      for (const lens of await lenses.allTextContents()) seen.add(lens);
      if ([...seen].some((lens) => /running/.test(lens))) break;
      await page.waitForTimeout(100);
    }
    seen = [...seen];
    if (!seen.some((lens) => /running/.test(lens))) {
      // VS Code re-asks for lenses only once the document stops changing, so this is usual.
      console.log(`note: no code lens said "running" while streaming (VS Code waits for edits to pause); lenses: ${JSON.stringify(seen)}`);
    }
    const text = await waitForText(
      (text) => /status=done/.test(text) && /word\d+/.test(text),
      "the streamed answer with status=done",
      60000,
    );
    if (!new RegExp(`^## Output @${AGENT}`, "m").test(text)) {
      throw new Error(`no "## Output @${AGENT}" heading in:\n${text}`);
    }
    // Save and check the file as the user would find it on disk.
    await page.keyboard.press("Control+s");
    const file = path.join(workspace, FILE);
    const deadline = Date.now() + 10000;
    let saved = "";
    while (Date.now() < deadline) {
      saved = fs.readFileSync(file, "utf8");
      if (/status=done/.test(saved)) break;
      await page.waitForTimeout(200);
    }
    for (const needle of [
      ...(steps.includes("quickfix") ? ["## Constraints"] : []),
      `## Output @${AGENT}`,
      "<!-- baton:output run=",
      "status=done",
      "<!-- /baton:output run=",
    ]) {
      if (!saved.includes(needle)) throw new Error(`the saved file lacks ${needle}:\n${saved}`);
    }
    const words = saved.match(/\bword\d+\b/g) ?? [];
    const expected = Number(process.env.BATON_E2E_WORDS || "0");
    if (expected && words.length !== expected) {
      throw new Error(`expected ${expected} streamed words, the file has ${words.length}:\n${saved}`);
    }
    await running.first().waitFor({ state: "hidden", timeout: 10000 });
    // The code lens shows the last run's state (docs/editor-protocol.md); reported, not asserted.
    const lens = page.locator(`${EDITOR} .codelens-decoration`, { hasText: "done" });
    try {
      await lens.first().waitFor({ timeout: 5000 });
    } catch {
      const lenses = await page.locator(`${EDITOR} .codelens-decoration`).allTextContents();
      console.log(`note: no code lens says "done" after the run; lenses: ${JSON.stringify(lenses)}`);
    }
    await screenshot("vscode-send");
  });

  await step("palette", async () => {
    const first = runIds(await editorText());
    // baton: Preview payload → the server shows the payload file (window/showDocument).
    await showBrief();
    await palette("baton: Preview payload");
    await waitForTab((label) => label !== FILE && label.endsWith(".md"), "the payload preview");
    await waitForText((text) => /You research competitors/.test(text), "the role in the payload");
    await page.keyboard.press("Control+w");

    // baton: Send brief to agent… → a quick pick of agents; a re-run replaces the block.
    await showBrief();
    await palette("baton: Send brief to agent");
    await quickPick(`@${AGENT}`);
    const rerun = await waitForText(
      (text) => runIds(text).length === 1 && runIds(text)[0] !== first[0] && /status=done/.test(text),
      "the re-run's block replacing the first",
      60000,
    );
    if ((rerun.match(/^## Output @/gm) ?? []).length !== 1) {
      throw new Error(`the re-run did not replace the block:\n${rerun}`);
    }

    // baton: Open journal → the newest run file of this document.
    await palette("baton: Open journal");
    const journal = await waitForTab((label) => label.startsWith(runIds(rerun)[0]), "the run's journal file");
    console.log(`  journal: ${journal}`);
    await page.keyboard.press("Control+w");

    // The status bar item cancels: send, click "baton: 1 running", pick "Cancel all runs".
    await showBrief();
    await palette("baton: Send brief to agent");
    await quickPick(`@${AGENT}`);
    const running = page.locator(".statusbar-item", { hasText: "baton: 1 running" }).first();
    await running.waitFor({ state: "visible", timeout: 20000 });
    await running.click();
    await quickPick("Cancel all runs");
    await waitForText((text) => /status=(cancelled|partial)/.test(text), "the cancelled run's marker");
    await running.waitFor({ state: "hidden", timeout: 10000 });
    await screenshot("vscode-cancelled");
  });
  await step("typing", async () => {
    // Send again and type lines at the top while the answer streams, a key every 100 ms, then
    // every 30 ms: the saved file must be exact (the typed lines, the brief, one block).
    const file = path.join(workspace, FILE);
    const save = async () => {
      await page.keyboard.press("Control+s");
      await page.waitForTimeout(300);
      return fs.readFileSync(file, "utf8");
    };
    const sendAgain = async () => {
      await showBrief();
      await palette("baton: Send brief to agent");
      await quickPick(`@${AGENT}`);
    };
    const doneBlock = async (previous, what) => {
      const deadline = Date.now() + 60000;
      let saved = "";
      while (Date.now() < deadline) {
        saved = await save();
        const runs = runIds(saved);
        if (runs.some((run) => !previous.includes(run)) && /status=done/.test(saved)) return saved;
        await page.waitForTimeout(500);
      }
      throw new Error(`timed out waiting for ${what}; the file holds:\n${saved}`);
    };
    await showBrief();
    if (runIds(await save()).length === 0) {
      await sendAgain();
      await doneBlock([], "a first block");
    }
    const block = /## Output @[^\n]*\n<!-- baton:output [^\n]*-->\n[\s\S]*?<!-- \/baton:output run=\S+ -->\n/;
    const words = Array.from({ length: Number(process.env.BATON_E2E_WORDS || "40") }, (_, i) => `word${i + 1}`);
    for (const interval of [100, 30]) {
      await showBrief();
      const before = await save();
      const previous = runIds(before);
      await sendAgain();
      // On a line of its own above the heading, so the brief keeps its title throughout.
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("Enter");
      await page.keyboard.press("ArrowUp");
      const typed = [];
      const until = Date.now() + 5000; // most of the 6 s the answer takes
      while (Date.now() < until) {
        const line = `typed at the top ${typed.length + 1}`;
        await page.keyboard.type(line, { delay: interval });
        await page.keyboard.press("Enter");
        typed.push(line);
        await page.waitForTimeout(interval);
      }
      const saved = await doneBlock(previous, `the answer typed over every ${interval} ms`);
      const marker = saved.match(/<!-- baton:output [^\n]*-->/)[0];
      const run = runIds(saved)[0];
      if (previous.includes(run) || !/status=done/.test(marker)) throw new Error(`the marker is ${marker}`);
      const expected =
        typed.map((line) => `${line}\n`).join("") +
        "\n" +
        before.replace(block, `## Output @${AGENT}\n${marker}\n${words.join(" ")}\n<!-- /baton:output run=${run} -->\n`);
      if (saved !== expected) {
        throw new Error(`typing every ${interval} ms: the file is not exact.\nexpected:\n${expected}\ngot:\n${saved}`);
      }
      console.log(`  typed ${typed.length} lines every ${interval} ms: the file is exact, one block`);
      // Undo the typing for the next round: the lines and the blank line under them.
      const lines = saved.split("\n");
      await page.keyboard.press("Control+Home");
      for (let i = 0; i <= typed.length; i++) await page.keyboard.press("Shift+ArrowDown");
      await page.keyboard.press("Delete");
      const cleaned = await save();
      if (cleaned !== lines.slice(typed.length + 1).join("\n")) {
        throw new Error(`could not remove the typed lines:\n${cleaned}`);
      }
    }
    await screenshot("vscode-typing");
  });

  await step("refused", async () => {
    // Offered with the reason in the title; chosen, a message says why and what to do.
    for (const [agent, reason, says] of [
      ["tool", "needs trust", /not trusted; trust the workspace/],
      ["keyed", "OPENAI_API_KEY not set", /OPENAI_API_KEY`, which is not set/],
    ]) {
      await codeAction(new RegExp(`^Send "?${TITLE}"? to @${agent} — ${reason}$`));
      const shown = await toast(`cannot send "${TITLE}" to @${agent}`);
      const message = ((await shown.textContent()) ?? "").replace(/\u00a0/g, " ");
      if (!says.test(message)) throw new Error(`the message does not say why: ${message}`);
      if (/Request workspace\/executeCommand failed/.test(await toasts())) {
        throw new Error(`a bare protocol error was shown: ${await toasts()}`);
      }
    }
    await screenshot("vscode-refused");
    await clearNotifications();
    if (fs.existsSync(path.join(workspace, ".baton", "runs"))) {
      const runs = fs.readdirSync(path.join(workspace, ".baton", "runs"));
      const refused = runs.filter((file) => /"agent":"(tool|keyed)"/.test(journalled(file.replace(/\.jsonl$/, ""))));
      if (refused.length) throw new Error(`a refused send was journalled: ${refused}`);
    }
  });

  await step("resend", async () => {
    await showBrief();
    const first = await sendFromMenu();
    // The same send again while the first streams: it is cancelled, and replaced.
    await codeAction(new RegExp(`^Send "?${TITLE}"? to ${AT_AGENT}$`));
    const second = await waitForText(
      (text) => runIds(text, "running").some((id) => id !== first) || runIds(text, "done").length > 0,
      "the second run's block",
    );
    if (runIds(second, "done").includes(first)) {
      throw new Error("the first run ended before the second was sent: the test is too slow");
    }
    // Lines typed above the heading while the answer streams: the code lens stays on it.
    await page.keyboard.press("Control+Home");
    for (let line = 1; line <= 3; line++) {
      await page.keyboard.type(`note ${line}`);
      await page.keyboard.press("Enter");
      await page.waitForTimeout(100);
    }
    const heading = page.locator(`${EDITOR} .view-line`, { hasText: TITLE.split("'")[0] }).first();
    const lens = page.locator(`${EDITOR} .codelens-decoration`).first();
    const [lensBox, headingBox] = [await lens.boundingBox(), await heading.boundingBox()];
    if (!lensBox || !headingBox) throw new Error("no code lens or heading on screen");
    const gap = headingBox.y - (lensBox.y + lensBox.height);
    if (gap < -2 || gap > headingBox.height) {
      await screenshot("vscode-lens-misplaced");
      throw new Error(`the code lens is not above the heading (lens at ${lensBox.y}, heading at ${headingBox.y})`);
    }
    const text = await waitForText(
      (text) => runIds(text).length === 1 && runIds(text, "done").some((id) => id !== first),
      "one block, the second run's, done",
      60000,
    );
    if ((text.match(new RegExp(`^## Output @${AGENT}`, "gm")) ?? []).length !== 1) {
      throw new Error(`not one block:\n${text}`);
    }
    if (!/"state":"cancelled"/.test(journalled(first))) {
      throw new Error(`the first run is not cancelled in the journal:\n${journalled(first)}`);
    }
    if (/deleted/.test(await toasts())) throw new Error(`a misleading message: ${await toasts()}`);
    await screenshot("vscode-resend");
  });

  await step("cancel", async () => {
    await showBrief();
    const run = await sendFromMenu();
    // The run's progress is a notification with a Cancel button.
    const progress = await toast(`@${AGENT}: ${TITLE}`);
    await screenshot("vscode-progress");
    await progress.locator(".monaco-button", { hasText: "Cancel" }).first().click();
    await waitForText((text) => runIds(text, "cancelled").includes(run), "the cancelled marker");
    const statusBar = page.locator(".statusbar-item", { hasText: "baton: 1 running" }).first();
    await statusBar.waitFor({ state: "hidden", timeout: 10000 });
    if (!/"state":"cancelled"/.test(journalled(run))) {
      throw new Error(`the journal does not say cancelled:\n${journalled(run)}`);
    }
  });

  await step("pipeline", async () => {
    // pipeline.brief.md: "Write summary" links "Gather facts", which links "Background" in
    // background.brief.md (not open). The lens runs all three, in order; each answer lands
    // under its brief, in the open buffer or, for background.brief.md, in the file on disk.
    const PIPELINE = "pipeline.brief.md";
    const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: PIPELINE });
    await row.first().dblclick();
    await waitForTab((label) => label === PIPELINE, PIPELINE);
    const lens = page
      .locator(`${EDITOR} .codelens-decoration a`, { hasText: "Run pipeline · 3 briefs, 0 up to date" })
      .first();
    await lens.waitFor({ state: "visible", timeout: 30000 });
    // The budget lens comes counted, or is left for codeLens/resolve, which VS Code asks for
    // the lenses in view.
    const budget = page.locator(`${EDITOR} .codelens-decoration`, { hasText: /@researcher · [\d.]+k? \/ \d+k/ });
    await budget.first().waitFor({ state: "visible", timeout: 15000 });
    await lens.click();
    const saved = path.join(workspace, PIPELINE);
    const deadline = Date.now() + 60000;
    let text = "";
    for (;;) {
      // The answers are edits of the open buffer: save it to read it whole.
      await page.locator(`${EDITOR} .view-line`).first().click();
      await page.keyboard.press("Control+S");
      await page.waitForTimeout(500);
      text = fs.readFileSync(saved, "utf8");
      if (runIds(text, "done").length === 2) break;
      if (Date.now() > deadline) throw new Error(`the pipeline did not answer both briefs:\n${text}`);
      await page.waitForTimeout(1000);
    }
    const gather = text.indexOf("# Gather facts");
    const summary = text.indexOf("# Write summary");
    const blocks = [...text.matchAll(/## Output @researcher\n<!-- baton:output run=\S+ [^>]*status=done -->\n(word\d+ ?)+\n<!-- \/baton:output run=\S+ -->/g)];
    if (blocks.length !== 2 || !(gather < blocks[0].index && blocks[0].index < summary && summary < blocks[1].index)) {
      throw new Error(`the two blocks are not under their briefs:\n${text}`);
    }
    const background = fs.readFileSync(path.join(workspace, "background.brief.md"), "utf8");
    if (!/## Output @researcher\n<!-- baton:output run=\S+ [^>]*status=done -->\n(word\d+ ?)+\n/.test(background)) {
      throw new Error(`background.brief.md (not open) was not answered on disk:\n${background}`);
    }
    const upToDate = page.locator(`${EDITOR} .codelens-decoration a`, {
      hasText: "Run pipeline · 3 briefs, 3 up to date",
    });
    await upToDate.first().waitFor({ state: "visible", timeout: 15000 });
    await screenshot("vscode-pipeline");
  });

  await step("crash", async () => {
    await showBrief();
    const running = page.locator(".statusbar-item", { hasText: "baton: 1 running" }).first();
    const run = await sendFromMenu();
    await running.waitFor({ state: "visible", timeout: 10000 });
    const killed = serverPids();
    if (killed.length !== 1) throw new Error(`expected one baton server, found ${killed}`);
    process.kill(killed[0], "SIGKILL");
    // The client starts a new server; the status bar forgets the dead server's run.
    const deadline = Date.now() + 30000;
    while (!serverPids().some((pid) => pid !== killed[0])) {
      if (Date.now() > deadline) throw new Error("the server was not restarted");
      await page.waitForTimeout(200);
    }
    await running.waitFor({ state: "hidden", timeout: 15000 });
    // The new server offers the run's saved output back.
    const offer = new RegExp(`^Insert saved output of run ${run} `);
    for (let attempt = 1; ; attempt++) {
      try {
        await codeAction(offer);
        break;
      } catch (error) {
        if (attempt === 5) throw error;
        await page.keyboard.press("Escape");
        await page.waitForTimeout(1000);
      }
    }
    await waitForText((text) => runIds(text, "partial").includes(run), "the saved output, marked partial");
    await page.waitForTimeout(1000);
    if (await running.isVisible()) throw new Error("the status bar shows a run again");
    await screenshot("vscode-crash-recovered");
  });
} catch (error) {
  failed = true;
  console.error(`FAILED ${current}: ${error instanceof Error ? error.stack : error}`);
  try {
    console.error(`screenshot: ${await screenshot(`vscode-failed-${current}`)}`);
  } catch {
    // The page may be gone.
  }
  if (consoleErrors.length) console.error(`browser console errors:\n${consoleErrors.join("\n")}`);
} finally {
  await context.close();
  fs.rmSync(userData, { recursive: true, force: true });
}
console.log(`${failed ? "FAILED" : "passed"} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exit(failed ? 1 : 0);
