// pretense-dev for VS Code and Cursor: starts `pretense-dev lsp` over stdio and
// shows the proxy's state (the server's `pretense/status` notification) in the
// status bar.  Everything else — secret diagnostics, hovers, code actions — is
// standard LSP and handled by vscode-languageclient.
import * as path from "path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

const STATUS_METHOD = "pretense/status";

// What the server sends (pretense_dev/lsp/status.py: StatusReporter.payload).
interface PretenseStatus {
  state: "up" | "down" | "not-protecting" | "unknown";
  port: number | null;
  detail: string;
  root: string | null;
  repoId: string | null;
  protectedNames: number | null;
  mapVersion: number | null;
  policyError: string | null;
  reason: string;
}

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem | undefined;
const statuses = new Map<string, PretenseStatus>();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  statusItem.command = "pretense.showOutput";
  context.subscriptions.push(statusItem);
  context.subscriptions.push(
    vscode.commands.registerCommand("pretense.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand("pretense.showOutput", () => client?.outputChannel.show()),
    vscode.window.onDidChangeActiveTextEditor(() => render()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("pretense")) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}

function initializationOptions(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration("pretense");
  return {
    debounceMs: cfg.get("debounceMs"),
    severity: cfg.get("severity"),
    hover: cfg.get("hover"),
    codeActions: cfg.get("codeActions"),
    statusMessages: cfg.get("statusMessages"),
    statusPollSeconds: cfg.get("statusPollSeconds"),
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace
    .getConfiguration("pretense")
    .get<string[]>("command", ["pretense-dev", "lsp"]);
  const [program, ...args] = command.length > 0 ? command : ["pretense-dev", "lsp"];
  const serverOptions: ServerOptions = { command: program, args };
  const clientOptions: LanguageClientOptions = {
    // Every file and unsaved buffer: a secret can be typed anywhere.
    documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
    initializationOptions: initializationOptions(),
  };
  client = new LanguageClient("pretense-dev", "pretense-dev", serverOptions, clientOptions);
  client.onNotification(STATUS_METHOD, (status: PretenseStatus) => {
    statuses.set(status.root ?? "", status);
    render();
  });
  context.subscriptions.push(client);
  try {
    await client.start();
  } catch (err) {
    showState("$(error) pretense-dev", `The language server did not start: ${String(err)}`);
  }
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  statuses.clear();
  if (c !== undefined) {
    await c.stop();
  }
}

// The status of the repository holding the active editor's file, else the last one.
function current(): PretenseStatus | undefined {
  const file = vscode.window.activeTextEditor?.document.uri.fsPath;
  let best: PretenseStatus | undefined;
  for (const [root, status] of statuses) {
    if (file !== undefined && root !== "" && (file === root || file.startsWith(root + path.sep))) {
      if (best === undefined || (best.root ?? "").length < root.length) {
        best = status;
      }
    }
  }
  if (best === undefined && statuses.size > 0) {
    best = Array.from(statuses.values()).pop();
  }
  return best;
}

const LABELS: Record<PretenseStatus["state"], string> = {
  up: "$(shield) pretense: protected",
  down: "$(warning) pretense: proxy down",
  "not-protecting": "$(warning) pretense: not protecting",
  unknown: "$(question) pretense",
};

function render(): void {
  const status = current();
  if (status === undefined) {
    statusItem?.hide();
    return;
  }
  const lines = [status.detail];
  if (status.port !== null) {
    lines.push(`Proxy port: ${status.port}`);
  }
  if (status.protectedNames !== null) {
    lines.push(`Protected names: ${status.protectedNames} (map version ${status.mapVersion})`);
  }
  if (status.policyError !== null) {
    lines.push(`Policy file invalid: ${status.policyError}`);
  }
  showState(LABELS[status.state] ?? LABELS.unknown, lines.join("\n"));
  if (statusItem !== undefined) {
    statusItem.backgroundColor =
      status.state === "down" || status.state === "not-protecting"
        ? new vscode.ThemeColor("statusBarItem.warningBackground")
        : undefined;
  }
}

function showState(text: string, tooltip: string): void {
  if (statusItem === undefined) {
    return;
  }
  statusItem.text = text;
  statusItem.tooltip = tooltip;
  statusItem.show();
}
