//! A pipeline of 200 briefs (issue 14's performance goals): a random DAG of depth 10 (each
//! brief needs up to 3 briefs of earlier levels, one of them of the level just before) over 10
//! files, with a fixed seed, run by the real `baton run` against a loopback
//! OpenAI-compatible agent that answers each request after a fixed 100 ms. It reports:
//!
//! - the wall time against the lower bound max(critical path × 100 ms, total work ÷
//!   max_parallel) (goal: within 5 %);
//! - baton's CPU time per brief and its peak resident memory (the child's `rusage`);
//! - the time `baton run --dry-run` takes to plan the 200 briefs (goal: under 50 ms).
//!
//! Run with `cargo bench --bench pipeline`. `BENCH_PARALLEL` sets `--max-parallel` (default 4).

#[allow(dead_code)]
#[path = "../tests/agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../tests/agents/streams.rs"]
mod streams;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{Server, Step};
use support::Workspace;

const BRIEFS: usize = 200;
const LEVELS: usize = 10;
const FILES: usize = 10;
const LATENCY: Duration = Duration::from_millis(100);

fn main() {
    let parallel: usize = std::env::var("BENCH_PARALLEL")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Server::respond(|_| {
        let mut steps = vec![Step::Pause(LATENCY)];
        steps.extend(streams::openai_ok(&["An answer of a few words."]));
        steps
    }));
    let workspace = Workspace::new("bench-pipeline");
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"bench\"\nbase_url = \"{}\"\nretries = 0\nmax_concurrent = 1000\n",
            server.url
        ),
    );
    let levels = generate(&workspace);
    let files: Vec<String> = (0..FILES).map(|file| format!("f{file}.brief.md")).collect();

    let dry_run = (0..5)
        .map(|_| {
            let started = Instant::now();
            let (ok, _, _) = baton(&workspace, &files, &["--dry-run"]);
            assert!(ok, "--dry-run failed");
            started.elapsed()
        })
        .min()
        .unwrap();

    let parallel_arg = parallel.to_string();
    let started = Instant::now();
    let (ok, cpu, peak_kb) = baton(&workspace, &files, &["--max-parallel", &parallel_arg]);
    let wall = started.elapsed();
    assert!(ok, "the pipeline failed");
    let sent = server.requests().len();
    assert_eq!(sent, BRIEFS, "every brief is sent once");

    let critical = levels as f64 * LATENCY.as_secs_f64();
    let work = BRIEFS as f64 * LATENCY.as_secs_f64() / parallel as f64;
    let bound = critical.max(work);
    println!("pipeline: {BRIEFS} briefs, depth {levels}, {FILES} files, max_parallel {parallel}, agent latency {} ms", LATENCY.as_millis());
    println!(
        "  wall time        {:.3} s (lower bound {:.3} s: critical path {:.3} s, work / max_parallel {:.3} s): {:+.1} %",
        wall.as_secs_f64(),
        bound,
        critical,
        work,
        (wall.as_secs_f64() / bound - 1.0) * 100.0
    );
    println!(
        "  baton CPU        {:.3} s, {:.2} ms per brief",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / BRIEFS as f64
    );
    println!("  peak RSS         {:.1} MB", peak_kb as f64 / 1024.0);
    println!(
        "  --dry-run        {:.1} ms to plan {BRIEFS} briefs (process start included, best of 5)",
        dry_run.as_secs_f64() * 1000.0
    );
    drop(runtime);
}

/// Writes the briefs: brief `n` is on level `n * LEVELS / BRIEFS`, in file `n % FILES`, and
/// links to one brief of the level before and up to two more of earlier levels. Returns the
/// depth (the number of levels).
fn generate(workspace: &Workspace) -> usize {
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: usize| {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        (random % below as u64) as usize
    };
    let per_level = BRIEFS / LEVELS;
    let mut texts = vec![String::new(); FILES];
    for brief in 0..BRIEFS {
        let level = brief / per_level;
        let mut needs = Vec::new();
        if level > 0 {
            needs.push((level - 1) * per_level + next(per_level));
            for _ in 0..next(3) {
                let need = next(level * per_level);
                if !needs.contains(&need) {
                    needs.push(need);
                }
            }
        }
        let file = brief % FILES;
        let links: Vec<String> = (needs.iter())
            .map(|&need| match need % FILES == file {
                true => format!("[[Brief {need}]]"),
                false => format!("[[f{}.brief.md#Brief {need}]]", need % FILES),
            })
            .collect();
        let uses = match links.is_empty() {
            true => String::new(),
            false => format!(" Use {}.", links.join(", ")),
        };
        texts[file].push_str(&format!(
            "# Brief {brief}\n\n## Objective\n\nStep {brief} of the plan.{uses}\n\n"
        ));
    }
    for (file, text) in texts.iter().enumerate() {
        workspace.write(&format!("f{file}.brief.md"), text);
    }
    LEVELS
}

/// Runs `baton run FILES ARGS`: whether it succeeded, its CPU time (user and system) and its
/// peak resident memory in KB, from its `rusage`.
// The child is reaped by `wait4`, which std's `wait` cannot replace: it gives no rusage.
#[allow(clippy::zombie_processes)]
fn baton(workspace: &Workspace, files: &[String], args: &[&str]) -> (bool, Duration, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("run")
        .args(files)
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("no-user-config.toml"))
        .env("BATON_TRUST_WORKSPACE", "1")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child, which it reaps.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; the pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, cpu, usage.ru_maxrss)
}
