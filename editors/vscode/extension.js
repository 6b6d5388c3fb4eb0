// The nndsl extension: starts `nndsl lsp` for .nn files and talks LSP to it over stdio.
// Highlighting comes from the TextMate grammar the manifest contributes; everything else
// (diagnostics, completion, hover, navigation, rename, formatting, quick fixes) from the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

// Settings may name ${workspaceFolder}, as in ${workspaceFolder}/.venv/bin/nndsl.
function expand(text) {
  const folders = vscode.workspace.workspaceFolders;
  const root = folders && folders.length ? folders[0].uri.fsPath : "";
  return text.split("${workspaceFolder}").join(root);
}

function serverOptions() {
  const config = vscode.workspace.getConfiguration("nndsl.server");
  const command = expand(config.get("command", "nndsl"));
  const args = config.get("args", ["lsp"]).map(expand);
  return { command, args, transport: TransportKind.stdio };
}

async function start(context) {
  client = new LanguageClient("nndsl", "nndsl language server", serverOptions(), {
    documentSelector: [
      { scheme: "file", language: "nn" },
      { scheme: "untitled", language: "nn" },
    ],
  });
  try {
    await client.start();
  } catch (err) {
    // The usual cause: nndsl, or its lsp extra, is not installed where the command points.
    vscode.window.showErrorMessage(
      `nndsl: could not start "${serverOptions().command} ${serverOptions().args.join(" ")}" ` +
        `(${err.message}). Install it with: pip install "nndsl[lsp]", or set nndsl.server.command.`
    );
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("nndsl.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("nndsl.server")) {
        await vscode.commands.executeCommand("nndsl.restartServer");
      }
    })
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
