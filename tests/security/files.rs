//! Attack 1 of issue 11: writes through links a cloned repository planted, up to code
//! execution. Each test plants links (dangling and to an existing victim outside the
//! workspace) where baton writes: the preview file, `.baton` itself, `.baton/runs`,
//! `.baton/.gitignore`, the names of `baton send`'s old temp files, the brief itself. Each
//! asserts that nothing outside the workspace is written or created, that no agent is
//! contacted when the journal cannot be written, and that the user is told why.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::server::{stream, Server as Agent};
use crate::support::{Server, Workspace};

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nimport os; os.system('touch pwned')\n\n## Expected Output\n\nA table.\n";

/// The preview's name for `scan.brief.md`, brief "Scan prices", agent `writer`.
const PREVIEW: &str = ".baton/preview/scan-brief-scan-prices-writer.md";

/// What the victim holds before the attack, and must hold after.
const VICTIM_TEXT: &str = "export PATH=$HOME/bin:$PATH\n";

/// A workspace with a brief for the loopback agent `writer`, and a folder outside it that
/// stands for the user's home.
struct Scene {
    /// Where the loopback agent runs, for as long as the scene lives.
    _runtime: tokio::runtime::Runtime,
    agent: Agent,
    workspace: Workspace,
    home: Workspace,
}

impl Scene {
    fn new(name: &str) -> Scene {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = [
            openai_delta("| vendor | price |"),
            "data: [DONE]\n\n".to_owned(),
        ];
        let agent = runtime.block_on(Agent::start(vec![stream("text/event-stream", &answer)]));
        let workspace = Workspace::new(&format!("files-{name}"));
        workspace.write(
            "baton.toml",
            &format!(
                "[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{}/v1\"\nretries = 0\ntimeout_secs = 10\n",
                agent.url
            ),
        );
        workspace.write("scan.brief.md", BRIEF);
        let home = Workspace::new(&format!("files-{name}-home"));
        Scene {
            _runtime: runtime,
            agent,
            workspace,
            home,
        }
    }

    /// `~/.bashrc` with the user's text in it.
    fn victim(&self) -> PathBuf {
        self.home.write(".bashrc", VICTIM_TEXT);
        self.home.path(".bashrc")
    }

    /// A link at `relative` in the workspace to `target`, its folders made.
    fn plant(&self, relative: &str, target: &Path) {
        let link = self.workspace.path(relative);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(target, link).unwrap();
    }

    /// Every name in the user's home but the victim: nothing baton should have made.
    fn made_at_home(&self) -> Vec<String> {
        let mut names: Vec<String> = walk(&self.home.root)
            .into_iter()
            .filter(|path| *path != self.home.path(".bashrc"))
            .map(|path| path.display().to_string())
            .collect();
        names.sort();
        names
    }

    fn requests(&self) -> usize {
        self.agent.requests().len()
    }

    /// `baton send` on `file` (relative to the workspace) as a user runs it.
    fn send(&self, file: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_baton"))
            .arg("send")
            .arg(self.workspace.path(file))
            .current_dir(&self.workspace.root)
            .env(
                "BATON_CONFIG",
                self.workspace.path("no-such-user-config.toml"),
            )
            .env(
                "BATON_TRUST_FILE",
                self.workspace.path("no-such-trust-file.toml"),
            )
            .env_remove("BATON_TRUST_WORKSPACE")
            .env("NO_PROXY", "*")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .output()
            .unwrap()
    }

    /// A server with the brief open, its first diagnostics in.
    fn editor(&self) -> Server {
        let (mut server, _) = Server::start(&self.workspace, &["utf-16"]);
        let uri = self.workspace.uri("scan.brief.md");
        server.open(&uri, BRIEF);
        server.wait_for_diagnostics(&uri, Some(1));
        server
    }

    fn command(&self, server: &mut Server, command: &str) -> Value {
        let arguments =
            json!([{ "uri": self.workspace.uri("scan.brief.md"), "brief": "Scan prices" }]);
        server.request_response(
            "workspace/executeCommand",
            json!({ "command": command, "arguments": arguments }),
        )
    }

    /// Runs a command the server refuses; returns the error message the user is shown (the
    /// request itself is answered with `null`, not an error).
    fn refused(&self, server: &mut Server, command: &str) -> String {
        let answer = self.command(server, command);
        assert_eq!(answer["result"], Value::Null, "refused: {answer}");
        assert!(answer.get("error").is_none(), "no bare error: {answer}");
        let shown = server.wait_for("the refusal", |m| {
            m["method"] == "window/showMessage" && m["params"]["type"] == 1
        });
        shown["params"]["message"].as_str().unwrap().to_owned()
    }

    /// Sends the brief from the editor and returns the error message the user is shown.
    fn send_from_editor(&self, server: &mut Server) -> String {
        let answer = self.command(server, "baton.send");
        assert!(answer.get("error").is_none(), "the run starts: {answer}");
        let shown = server.wait_for("the run's error message", |m| {
            m["method"] == "window/showMessage" && m["params"]["type"] == 1
        });
        shown["params"]["message"].as_str().unwrap().to_owned()
    }
}

fn openai_delta(text: &str) -> String {
    let chunk = json!({ "choices": [{ "index": 0, "delta": { "content": text } }] });
    format!("data: {chunk}\n\n")
}

/// Every path under `dir`, links not followed.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            paths.extend(walk(&path));
        }
        paths.push(path);
    }
    paths
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_preview_link_planted_existing_or_dangling_is_refused_and_the_user_told() {
    let scene = Scene::new("preview");
    let victim = scene.victim();
    let missing = scene.home.path(".local/lib/python3/site-packages/zz.pth");
    let mut server = scene.editor();
    for target in [&victim, &missing] {
        scene.plant(PREVIEW, target);
        let message = scene.refused(&mut server, "baton.preview");
        assert!(
            message.contains(&format!(
                "`{}` is a symbolic link",
                scene.workspace.path(PREVIEW).display()
            )),
            "{message}"
        );
        assert!(
            is_link(&scene.workspace.path(PREVIEW)),
            "the link is left as it was"
        );
        std::fs::remove_file(scene.workspace.path(PREVIEW)).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM_TEXT);
    assert_eq!(scene.made_at_home(), Vec::<String>::new());
    // Without the link, the same preview is written where it belongs.
    let answer = scene.command(&mut server, "baton.preview");
    assert!(answer.get("error").is_none(), "{answer}");
    assert!(scene.workspace.read(PREVIEW).contains("import os"));
    assert_eq!(scene.requests(), 0, "a preview sends nothing");
}

#[test]
fn a_baton_folder_linked_outside_gets_nothing_and_no_run_starts() {
    let scene = Scene::new("baton-link");
    scene.victim();
    scene.plant(".baton", &scene.home.root);
    let refusal = format!(
        "`{}` is a symbolic link; baton writes only into a real folder inside the workspace: remove it",
        scene.workspace.path(".baton").display()
    );
    let mut server = scene.editor();
    let message = scene.refused(&mut server, "baton.preview");
    assert!(message.contains(&refusal), "{message}");
    let shown = scene.send_from_editor(&mut server);
    assert!(shown.contains(&refusal), "{shown}");
    assert!(shown.contains("nothing was sent"), "{shown}");

    let output = scene.send("scan.brief.md");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains(&refusal), "{}", stderr(&output));
    assert_eq!(
        scene.workspace.read("scan.brief.md"),
        BRIEF,
        "the brief is untouched"
    );
    assert_eq!(scene.requests(), 0, "no run is sent without its journal");
    assert_eq!(scene.made_at_home(), Vec::<String>::new());
}

#[test]
fn a_runs_folder_linked_outside_gets_no_run_file() {
    let scene = Scene::new("runs-link");
    let elsewhere = scene.home.path("runs");
    std::fs::create_dir_all(&elsewhere).unwrap();
    scene.plant(".baton/runs", &elsewhere);
    let mut server = scene.editor();
    let shown = scene.send_from_editor(&mut server);
    let runs = scene.workspace.path(".baton/runs");
    assert!(
        shown.contains(&format!("`{}` is a symbolic link", runs.display())),
        "{shown}"
    );
    let output = scene.send("scan.brief.md");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is a symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(scene.requests(), 0);
    assert_eq!(
        walk(&elsewhere),
        Vec::<PathBuf>::new(),
        "the folder stays empty"
    );
    assert_eq!(scene.workspace.read("scan.brief.md"), BRIEF);
}

#[test]
fn a_dangling_gitignore_link_does_not_create_its_target() {
    let scene = Scene::new("gitignore-link");
    let target = scene.home.path(".ssh/authorized_keys");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    scene.plant(".baton/.gitignore", &target);
    let mut server = scene.editor();
    let shown = scene.send_from_editor(&mut server);
    assert!(
        shown.contains(".baton/.gitignore` is a symbolic link"),
        "{shown}"
    );
    let message = scene.refused(&mut server, "baton.preview");
    assert!(message.contains(".gitignore"), "{message}");
    let output = scene.send("scan.brief.md");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!target.exists(), "the link's target is not created");
    assert_eq!(scene.requests(), 0);
}

#[test]
fn init_refuses_a_baton_folder_linked_outside() {
    let scene = Scene::new("init-link");
    let folder = scene.workspace.path("fresh");
    std::fs::create_dir_all(&folder).unwrap();
    symlink(&scene.home.root, folder.join(".baton")).unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("init")
        .arg(&folder)
        .output()
        .unwrap();
    assert_eq!(init.status.code(), Some(1), "{}", stderr(&init));
    assert!(
        stderr(&init).contains("is a symbolic link"),
        "{}",
        stderr(&init)
    );
    assert_eq!(scene.made_at_home(), Vec::<String>::new());
    assert!(
        !folder.join("baton.toml").exists(),
        "nothing is half-written"
    );
}

#[test]
fn links_at_the_old_temp_names_of_send_are_not_written_through() {
    let scene = Scene::new("temp-race");
    let victim = scene.victim();
    // The old name was `.<name>.baton-<pid>.tmp`; plant it for the process ids to come.
    let mut next = Command::new("true").spawn().unwrap();
    let from = next.id();
    next.wait().unwrap();
    for pid in from..from + 2000 {
        let name = format!(".scan.brief.md.baton-{pid}.tmp");
        symlink(&victim, scene.workspace.path(&name)).unwrap();
    }
    let output = scene.send("scan.brief.md");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), VICTIM_TEXT);
    let brief = scene.workspace.path("scan.brief.md");
    assert!(
        std::fs::symlink_metadata(&brief).unwrap().is_file(),
        "still a regular file"
    );
    let text = scene.workspace.read("scan.brief.md");
    assert!(
        text.starts_with(BRIEF) && text.contains("| vendor | price |"),
        "{text}"
    );
    assert_eq!(scene.requests(), 1);
    let temps = walk(&scene.workspace.root)
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with(".tmp") && !is_link(path))
        .count();
    assert_eq!(temps, 0, "no temp file is left behind");
}

#[test]
fn send_refuses_a_brief_that_is_a_link() {
    let scene = Scene::new("brief-link");
    let target = scene.home.path("real.brief.md");
    std::fs::write(&target, BRIEF).unwrap();
    scene.plant("linked.brief.md", &target);
    let output = scene.send("linked.brief.md");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let link = scene.workspace.path("linked.brief.md");
    assert!(
        stderr(&output).contains(&format!("`{}` is a symbolic link", link.display())),
        "{}",
        stderr(&output)
    );
    assert!(is_link(&link), "the link is not replaced");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), BRIEF);
    assert_eq!(scene.requests(), 0, "refused before anything is sent");
}
