// The baton extension: a thin layer over `baton lsp` (see docs/editor-protocol.md).
//
// The language client does the protocol work: diagnostics, code actions, code lenses,
// progress, messages, `workspace/applyEdit`, and the server's own executeCommand ids
// (`baton.send`, `baton.cancel`, ...), which it registers itself. This file adds what a
// VS Code user expects on top: settings, the trust question, palette commands with quick
// picks, a status bar item that shows the running runs (true again after the server
// restarts), and each run's progress as a notification with a Cancel button.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ProgressToken,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";

const SECTION = "baton";
const TRUST_KEY = "baton.trustedWorkspace";

/** A run as the server reports it (`baton.runs`, `baton/runs`). */
interface Run {
  run: string;
  uri: string;
  brief: string;
  agent: string;
  state: "queued" | "streaming";
  tokens: number;
}

/** An agent as `baton.agents` reports it. */
interface Agent {
  name: string;
  provider: string;
  model: string;
  locality: string;
  target: boolean;
  problem?: string;
}

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem;
let extensionContext: vscode.ExtensionContext;
/** Serialises starts and stops, so that a restart never overlaps another. */
let lifecycle: Promise<void> = Promise.resolve();

export function activate(context: vscode.ExtensionContext): void {
  extensionContext = context;
  statusItem = vscode.window.createStatusBarItem("baton.runs", vscode.StatusBarAlignment.Left, 10);
  statusItem.name = "baton runs";
  statusItem.command = "baton.client.cancelRun";
  context.subscriptions.push(
    statusItem,
    vscode.commands.registerCommand("baton.client.sendBrief", sendBrief),
    vscode.commands.registerCommand("baton.client.previewPayload", previewPayload),
    vscode.commands.registerCommand("baton.client.cancelRun", cancelRun),
    vscode.commands.registerCommand("baton.client.openJournal", openJournal),
    vscode.commands.registerCommand("baton.client.restartServer", () => queue(restart)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const relevant = ["baton.path", "baton.trustedWorkspace", "baton.logLevel"];
      if (relevant.some((key) => event.affectsConfiguration(key))) {
        void queue(restart);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void queue(restart)),
  );
  void queue(start);
  void askTrustOnce();
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}

function queue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

// ---------------------------------------------------------------------------------------
// Starting the server

/** The `baton` binary: `baton.path`, else `baton` found on PATH; undefined when neither. */
function resolveBinary(): { command: string; found: boolean } {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>("path", "").trim();
  if (configured) {
    const expanded = configured.startsWith("~")
      ? path.join(process.env.HOME ?? "", configured.slice(1))
      : configured;
    return { command: expanded, found: isExecutable(expanded) };
  }
  const names = process.platform === "win32" ? ["baton.exe", "baton.cmd", "baton"] : ["baton"];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (dir && isExecutable(candidate)) {
        return { command: candidate, found: true };
      }
    }
  }
  return { command: "baton", found: false };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The trust choice in force: VS Code's own workspace trust first, then `baton.trustedWorkspace`. */
function trustedWorkspace(): boolean {
  if (!vscode.workspace.isTrusted) {
    return false;
  }
  const setting = vscode.workspace.getConfiguration(SECTION).inspect<boolean>("trustedWorkspace");
  const explicit =
    setting?.workspaceFolderValue ?? setting?.workspaceValue ?? setting?.globalValue;
  if (explicit !== undefined) {
    return explicit;
  }
  return extensionContext.workspaceState.get<boolean>(TRUST_KEY) ?? false;
}

async function start(): Promise<void> {
  const binary = resolveBinary();
  if (!binary.found) {
    showStartError(binary.command, "the file does not exist or is not executable");
    return;
  }
  const config = vscode.workspace.getConfiguration(SECTION);
  const serverOptions: ServerOptions = {
    command: binary.command,
    args: ["lsp"],
    options: { env: { ...process.env } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "markdown" }],
    initializationOptions: {
      trustedWorkspace: trustedWorkspace(),
      logLevel: config.get<string>("logLevel", "warn"),
    },
    // A failed start is reported once, by showStartError, not by the client's own dialog too.
    initializationFailedHandler: () => false,
  };
  const next = new LanguageClient("baton", "baton", serverOptions, clientOptions);
  try {
    await next.start();
  } catch (error) {
    showStartError(binary.command, error instanceof Error ? error.message : String(error));
    try {
      await next.dispose();
    } catch {
      // The process never ran; nothing to stop.
    }
    return;
  }
  client = next;
  next.onNotification("baton/runs", (params: { runs?: Run[] }) => showRuns(params.runs ?? []));
  // The client restarts a crashed server by itself: what the old one was running is gone.
  next.onDidChangeState((event) => {
    if (event.newState === State.Running) {
      // `start()` returns the start in progress, settled once the client's own features
      // (its progress handler among them) are set up.
      void next.start().then(() => afterStart(next), () => undefined);
    } else {
      showRuns([]);
      endProgress();
    }
  });
  afterStart(next);
}

/** Once the server runs (first start or restart): progress with Cancel, and the true runs. */
function afterStart(running: LanguageClient): void {
  // Replaces the client's own handler, which shows progress in the status bar, where VS Code
  // offers no Cancel button. Set again after every restart, which sets the client's again.
  running.onRequest(WorkDoneProgressCreateRequest.type, (params) =>
    showProgress(running, params.token),
  );
  void running
    .sendRequest(ExecuteCommandRequest.type, { command: "baton.runs", arguments: [] })
    .then(
      (result: unknown) => showRuns((result as { runs?: Run[] } | null)?.runs ?? []),
      () => showRuns([]),
    );
}

async function stop(): Promise<void> {
  const current = client;
  client = undefined;
  showRuns([]);
  endProgress();
  if (current) {
    try {
      await current.stop(5000);
    } catch {
      // Already stopped or crashed: dispose below is enough.
    }
    await current.dispose().catch(() => undefined);
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

function showStartError(command: string, reason: string): void {
  const message =
    `baton: cannot start the language server "${command} lsp" (${reason}). ` +
    "Set baton.path to the baton binary, or put baton on PATH.";
  void vscode.window.showErrorMessage(message, "Open settings").then((choice) => {
    if (choice === "Open settings") {
      void vscode.commands.executeCommand("workbench.action.openSettings", "baton.path");
    }
  });
}

// ---------------------------------------------------------------------------------------
// The trust question

/** Asks "Trust this workspace's agents?" once per workspace that has a baton.toml. */
async function askTrustOnce(): Promise<void> {
  const setting = vscode.workspace.getConfiguration(SECTION).inspect<boolean>("trustedWorkspace");
  const decided =
    setting?.workspaceFolderValue !== undefined ||
    setting?.workspaceValue !== undefined ||
    setting?.globalValue !== undefined ||
    extensionContext.workspaceState.get<boolean>(TRUST_KEY) !== undefined;
  if (decided || !vscode.workspace.isTrusted) {
    return;
  }
  const configs = await vscode.workspace.findFiles("**/baton.toml", "**/node_modules/**", 1);
  if (configs.length === 0) {
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    "Trust this workspace's agents? Its baton.toml may run local commands and send API keys " +
      "to the endpoints it names.",
    "Trust",
    "Don't trust",
  );
  if (choice === undefined) {
    return; // Dismissed: ask again next time, untrusted until then.
  }
  const trusted = choice === "Trust";
  if (vscode.workspace.workspaceFolders?.length) {
    await vscode.workspace
      .getConfiguration(SECTION)
      .update("trustedWorkspace", trusted, vscode.ConfigurationTarget.Workspace);
  } else {
    await extensionContext.workspaceState.update(TRUST_KEY, trusted);
    await queue(restart);
  }
}

// ---------------------------------------------------------------------------------------
// Commands

/** The running client, or a message saying the server is not running. */
function running(): LanguageClient | undefined {
  if (!client) {
    void vscode.window.showErrorMessage(
      "baton: the language server is not running. Run “baton: Restart server”.",
    );
  }
  return client;
}

/** Runs one of the server's executeCommand ids; errors become a message the user sees. */
async function execute<T>(command: string, argument?: object): Promise<T | undefined> {
  const client = running();
  if (!client) return undefined;
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: argument === undefined ? [] : [argument],
    });
    return result as T;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`baton: ${reason}`);
    return undefined;
  }
}

/** The active Markdown editor, or a message saying one is needed. */
function markdownEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "markdown") {
    void vscode.window.showInformationMessage("baton: open a brief (a Markdown file) first.");
    return undefined;
  }
  return editor;
}

function briefArgument(editor: vscode.TextEditor): { uri: string; position: object } {
  const converter = client!.code2ProtocolConverter;
  return {
    uri: converter.asUri(editor.document.uri),
    position: converter.asPosition(editor.selection.active),
  };
}

async function sendBrief(): Promise<void> {
  const editor = markdownEditor();
  if (!editor || !running()) return;
  const where = briefArgument(editor);
  const answer = await execute<{ agents: Agent[] }>("baton.agents", where);
  if (!answer) return;
  const agents = [...answer.agents].sort((a, b) => Number(b.target) - Number(a.target));
  if (agents.length === 0) {
    void vscode.window.showInformationMessage("baton: no agent is configured (baton.toml).");
    return;
  }
  const picked = await vscode.window.showQuickPick(
    agents.map((agent) => ({
      label: `@${agent.name}`,
      description: [agent.provider, agent.model, agent.locality, agent.target ? "brief's agent" : ""]
        .filter(Boolean)
        .join(" · "),
      detail: agent.problem ? `$(warning) ${agent.problem}` : undefined,
      agent,
    })),
    { title: "baton: Send brief to agent", placeHolder: "Agent" },
  );
  if (!picked) return;
  const run = await execute<{ run: string; agent: string }>("baton.send", {
    ...where,
    agent: picked.agent.name,
  });
  if (run) {
    vscode.window.setStatusBarMessage(`baton: run ${run.run} queued for @${run.agent}`, 4000);
  }
}

async function previewPayload(): Promise<void> {
  const editor = markdownEditor();
  if (!editor || !running()) return;
  // The server shows the payload file itself (window/showDocument).
  await execute<{ uri?: string }>("baton.preview", briefArgument(editor));
}

async function cancelRun(): Promise<void> {
  const answer = await execute<{ runs: Run[] }>("baton.runs");
  if (!answer) return;
  if (answer.runs.length === 0) {
    void vscode.window.showInformationMessage("baton: no run is queued or streaming.");
    return;
  }
  const items: (vscode.QuickPickItem & { run?: string })[] = [
    { label: "$(stop-circle) Cancel all runs", description: `${answer.runs.length} running` },
    ...answer.runs.map((run) => ({
      label: `@${run.agent}: ${run.brief}`,
      description: `${run.state} · ${run.tokens} tokens`,
      detail: vscode.workspace.asRelativePath(vscode.Uri.parse(run.uri)),
      run: run.run,
    })),
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: "baton: Cancel run",
    placeHolder: "Run to cancel",
  });
  if (!picked) return;
  const result = await execute<{ cancelled: string[] }>(
    "baton.cancel",
    picked.run ? { run: picked.run } : {},
  );
  if (result) {
    vscode.window.setStatusBarMessage(`baton: cancelled ${result.cancelled.length} run(s)`, 4000);
  }
}

async function openJournal(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const argument =
    editor && client ? { uri: client.code2ProtocolConverter.asUri(editor.document.uri) } : {};
  const result = await execute<{ dir: string; latest?: string | null }>("baton.journal", argument);
  if (!result) return;
  if (result.latest) {
    const latest = result.latest.startsWith("file:")
      ? vscode.Uri.parse(result.latest)
      : vscode.Uri.file(result.latest);
    await vscode.window.showTextDocument(latest, { preview: true });
  } else {
    void vscode.window.showInformationMessage(
      `baton: no run of this document in the journal yet (${result.dir}).`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Progress

/** Ends the progress notifications still open, by token. */
const openProgress = new Map<ProgressToken, () => void>();

/**
 * A run's work-done progress as a notification: its title, the server's messages, and a
 * Cancel button that sends `window/workDoneProgress/cancel` (the server cancels the run).
 */
function showProgress(running: LanguageClient, token: ProgressToken): void {
  let report: vscode.Progress<{ message?: string }> | undefined;
  let finish: (() => void) | undefined;
  let ended = false;
  const end = (): void => {
    ended = true;
    listener.dispose();
    openProgress.delete(token);
    finish?.();
  };
  const listener = running.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === "begin") {
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `baton: ${value.title}`,
          cancellable: value.cancellable === true,
        },
        (progress, cancelled) => {
          report = progress;
          progress.report({ message: value.message });
          cancelled.onCancellationRequested(() => {
            void running
              .sendNotification(WorkDoneProgressCancelNotification.type, { token })
              .catch(() => undefined);
          });
          // The end may have come before VS Code showed the notification.
          return new Promise<void>((resolve) => (ended ? resolve() : (finish = resolve)));
        },
      );
    } else if (value.kind === "report") {
      report?.report({ message: value.message });
    } else {
      end();
    }
  });
  openProgress.set(token, end);
}

/** Ends every open progress notification: the server that would end them is gone. */
function endProgress(): void {
  for (const end of [...openProgress.values()]) {
    end();
  }
}

// ---------------------------------------------------------------------------------------
// Status bar

function showRuns(runs: Run[]): void {
  if (runs.length === 0) {
    statusItem.hide();
    return;
  }
  statusItem.text = `$(sync~spin) baton: ${runs.length} running`;
  // `baton/runs` comes when a run is queued, starts or ends, not per token: no counts here.
  const lines = runs.map((run) => `@${run.agent}: ${run.brief} (${run.state})`);
  statusItem.tooltip = `${lines.join("\n")}\n\nClick to cancel a run.`;
  statusItem.show();
}
