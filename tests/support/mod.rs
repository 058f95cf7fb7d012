//! Harness for the tests that need a Docker engine.
//!
//! Include it from a test file with
//!
//! ```ignore
//! #[path = "support/mod.rs"]
//! mod support;
//! ```
//!
//! `scripts/test` (or `eval "$(scripts/engine start)"`) provides the engine:
//! it exports `BERTH_TEST_DOCKER_HOST` (the private engine's socket) and
//! `BERTH_COMPOSE` (the real Docker Compose binary). Without them an engine
//! test prints `skipped: no test engine (run scripts/test)` and passes, unless
//! `CI=true` or `BERTH_REQUIRE_ENGINE=1`, where it fails.
//!
//! Every [`TestProject`] has a project name of its own and removes what
//! carries that name from the engine when dropped, also after a failure.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The label Docker Compose puts on everything of a project.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// The offline test image (busybox, no CMD).
pub const BUSYBOX_IMAGE: &str = "local/busybox:test";

/// The test image with a HEALTHCHECK (`true` every second) and
/// `CMD ["sleep", "3600"]`.
pub const HC_IMAGE: &str = "local/hc-image:test";

/// How long one command may run before the harness kills it and fails the
/// test. `BERTH_TEST_COMMAND_TIMEOUT` (seconds) overrides it.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// Sockets the harness rejects, because tests must never reach the machine's
/// own engine.
const DEFAULT_SOCKETS: &[&str] = &["unix:///var/run/docker.sock", "unix:///run/docker.sock"];

const SKIP_MESSAGE: &str = "skipped: no test engine (run scripts/test)";

/// The private test engine and the Compose binary that goes with it.
#[derive(Clone, Debug)]
pub struct Engine {
    /// `DOCKER_HOST` value of the test engine, e.g. `unix:///.../docker.sock`.
    pub host: String,
    /// Absolute path of the real `docker-compose` binary.
    pub compose: PathBuf,
}

/// Whether a missing engine must fail the test instead of skipping it.
pub fn engine_required() -> bool {
    std::env::var("BERTH_REQUIRE_ENGINE").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Engine {
    /// Reads `BERTH_TEST_DOCKER_HOST` and `BERTH_COMPOSE`. Returns `None` when
    /// they are missing, or panics if the engine is required (see
    /// [`engine_required`]). Panics when they are set but unusable: a
    /// configured engine that does not respond is a failure, not a skip.
    pub fn from_env() -> Option<Engine> {
        let host = non_empty_env("BERTH_TEST_DOCKER_HOST");
        let compose = non_empty_env("BERTH_COMPOSE");
        let (Some(host), Some(compose)) = (host, compose) else {
            if engine_required() {
                panic!(
                    "no test engine: BERTH_TEST_DOCKER_HOST and BERTH_COMPOSE must be set \
                     because CI=true or BERTH_REQUIRE_ENGINE=1; run the tests with scripts/test"
                );
            }
            return None;
        };
        assert!(
            !DEFAULT_SOCKETS.contains(&host.as_str()),
            "BERTH_TEST_DOCKER_HOST={host} is the machine's default engine; \
             the tests only run against the private engine of scripts/test"
        );
        let compose = PathBuf::from(compose);
        assert!(
            compose.is_absolute() && compose.is_file(),
            "BERTH_COMPOSE={} is not an absolute path to a file",
            compose.display()
        );
        let engine = Engine { host, compose };
        engine.check_reachable();
        Some(engine)
    }

    /// [`Engine::from_env`], printing the skip message when there is no
    /// engine: `let Some(engine) = Engine::require() else { return };`
    pub fn require() -> Option<Engine> {
        let engine = Engine::from_env();
        if engine.is_none() {
            eprintln!("{SKIP_MESSAGE}");
        }
        engine
    }

    /// Asks the engine for its version once per test process.
    fn check_reachable(&self) {
        static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
        let result = REACHABLE.get_or_init(|| {
            let out = run(self
                .docker_command(&["version", "--format", "{{.Server.Version}}"])
                .current_dir(std::env::temp_dir()));
            if out.status.success() {
                Ok(())
            } else {
                Err(describe("docker version", &out))
            }
        });
        if let Err(why) = result {
            panic!(
                "the test engine {} does not respond (start it with scripts/test or \
                 scripts/engine start):\n{why}",
                self.host
            );
        }
    }

    /// Returns a `docker` command aimed at the test engine.
    pub fn docker_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.args(args);
        self.point_at_engine(&mut cmd);
        cmd
    }

    /// Runs `docker ARGS` against the test engine.
    pub fn docker<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(self.docker_command(args).current_dir(std::env::temp_dir()))
    }

    /// Sets the environment that sends a Docker client to the test engine and
    /// nowhere else, and drops Compose settings of the caller's shell.
    fn point_at_engine(&self, cmd: &mut Command) {
        cmd.env("DOCKER_HOST", &self.host)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROFILES")
            .env_remove("COMPOSE_ENV_FILES");
    }
}

/// Skips the calling test (returns from it) when there is no test engine;
/// otherwise evaluates to the [`Engine`].
#[macro_export]
macro_rules! require_engine {
    () => {
        match $crate::support::Engine::require() {
            Some(engine) => engine,
            None => return,
        }
    };
}

/// A Compose project of one test: a unique name, a folder of that name for
/// its files, and clean-up of its containers, networks and volumes on drop.
pub struct TestProject {
    engine: Engine,
    name: String,
    dir: PathBuf,
    // Removes the folder on drop; `dir` lies inside it.
    _root: tempfile::TempDir,
}

/// Makes a project name that no other test of this or another process uses:
/// `bt` + pid + a clock part + a counter, lowercase as Compose requires.
fn unique_project_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    format!("bt{:x}{:05x}{n}", std::process::id(), clock)
}

impl TestProject {
    /// Creates an empty project. Its folder is named after the project, so a tool
    /// that derives the project name from the folder gets the same name.
    pub fn new(engine: &Engine) -> TestProject {
        let name = unique_project_name();
        let root = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .expect("create a temporary folder");
        let dir = root.path().join(&name);
        std::fs::create_dir(&dir).expect("create the project folder");
        TestProject {
            engine: engine.clone(),
            name,
            dir,
            _root: root,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Writes `text` to `path` (relative to the project folder, parent folders
    /// created) and returns the absolute path.
    pub fn write(&self, path: impl AsRef<Path>, text: &str) -> PathBuf {
        let path = self.dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent folders");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Returns a command running the `berth` binary with `DOCKER_HOST` set to the test engine, run in
    /// the project folder. No project name is passed: berth gets it from the
    /// folder name, which is [`TestProject::name`].
    pub fn berth_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(args).current_dir(&self.dir);
        self.engine.point_at_engine(&mut cmd);
        cmd
    }

    pub fn berth<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(&mut self.berth_command(args))
    }

    /// Returns a command running the real Docker Compose,
    /// `$BERTH_COMPOSE -p NAME ARGS`, in the project folder against the test
    /// engine.
    pub fn compose_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.engine.compose);
        cmd.arg("-p")
            .arg(&self.name)
            .args(args)
            .current_dir(&self.dir);
        self.engine.point_at_engine(&mut cmd);
        cmd
    }

    pub fn compose<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(&mut self.compose_command(args))
    }

    /// Returns a command running the docker CLI against the test engine, in
    /// the project folder.
    pub fn docker_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = self.engine.docker_command(args);
        cmd.current_dir(&self.dir);
        cmd
    }

    pub fn docker<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(&mut self.docker_command(args))
    }

    /// Runs `docker inspect` on one container and returns its JSON object
    /// (not the array).
    pub fn inspect_container(&self, name: &str) -> serde_json::Value {
        let out = self.docker(&["inspect", "--type", "container", name]);
        assert_success(&out, &format!("docker inspect {name}"));
        let mut list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("docker inspect {name}: invalid JSON: {e}"));
        assert_eq!(list.len(), 1, "docker inspect {name}: expected one object");
        list.remove(0)
    }

    /// Lists the names of the project's containers (running or not), sorted.
    pub fn container_names(&self) -> Vec<String> {
        self.list(&["ps", "-a", "--format", "{{.Names}}"])
    }

    /// Lists the names of the project's networks, sorted.
    pub fn network_names(&self) -> Vec<String> {
        self.list(&["network", "ls", "--format", "{{.Name}}"])
    }

    /// Lists the names of the project's volumes, sorted.
    pub fn volume_names(&self) -> Vec<String> {
        self.list(&["volume", "ls", "--format", "{{.Name}}"])
    }

    /// Runs a docker listing command filtered on the project label.
    fn list(&self, args: &[&str]) -> Vec<String> {
        let filter = format!("label={PROJECT_LABEL}={}", self.name);
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--filter", &filter]);
        let out = self.docker(&full);
        assert_success(&out, &format!("docker {}", full.join(" ")));
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// Removes the images labelled with this project: the ones Compose and
    /// berth built for it. Errors are ignored, as in [`Self::remove_all`].
    pub fn remove_images(&self) {
        let filter = format!("label={PROJECT_LABEL}={}", self.name);
        let docker = |args: &[&str]| {
            let mut cmd = self.engine.docker_command(args);
            try_run(cmd.current_dir(std::env::temp_dir())).ok()
        };
        let Some(listed) = docker(&["images", "-q", "--filter", &filter]) else {
            return;
        };
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        // An image with several tags is listed once per tag.
        let ids: BTreeSet<&str> = listed.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(ids);
            docker(&args);
        }
    }

    /// Removes every container (with its anonymous volumes), network,
    /// volume and built image labelled with this project. Errors are
    /// ignored: this runs from `Drop`, possibly while a failed test unwinds.
    pub fn remove_all(&self) {
        let filter = format!("label={PROJECT_LABEL}={}", self.name);
        let docker = |args: &[String]| {
            let mut cmd = self.engine.docker_command(args);
            try_run(cmd.current_dir(std::env::temp_dir())).ok()
        };
        let ids = |args: &[&str]| -> Vec<String> {
            let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            full.extend(["-q".to_owned(), "--filter".to_owned(), filter.clone()]);
            docker(&full)
                .map(|out| {
                    String::from_utf8_lossy(&out.stdout)
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = ids(&["ps", "-a"]);
        if !containers.is_empty() {
            let mut args = vec!["rm".to_owned(), "-f".to_owned(), "-v".to_owned()];
            args.extend(containers);
            docker(&args);
        }
        let networks = ids(&["network", "ls"]);
        if !networks.is_empty() {
            let mut args = vec!["network".to_owned(), "rm".to_owned()];
            args.extend(networks);
            docker(&args);
        }
        let volumes = ids(&["volume", "ls"]);
        if !volumes.is_empty() {
            let mut args = vec!["volume".to_owned(), "rm".to_owned(), "-f".to_owned()];
            args.extend(volumes);
            docker(&args);
        }
        self.remove_images();
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        self.remove_all();
    }
}

/// Runs a command with captured output, killing it (and failing the test)
/// if it runs longer than the command timeout. Stdin is empty.
pub fn run(cmd: &mut Command) -> Output {
    try_run(cmd).unwrap_or_else(|why| panic!("{why}"))
}

/// [`run`] that reports a command it cannot start or that times out as an
/// error instead of panicking (for clean-up code, which must not panic).
pub fn try_run(cmd: &mut Command) -> Result<Output, String> {
    let timeout = std::env::var("BERTH_TEST_COMMAND_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_COMMAND_TIMEOUT);
    let command_line = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {command_line}: {e}"))?;
    // Both pipes are drained while waiting, so a chatty child cannot block.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("wait for {command_line}: {e}")),
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            return Err(format!(
                "{command_line} did not finish within {}s; stderr:\n{}",
                timeout.as_secs(),
                String::from_utf8_lossy(&err)
            ));
        }
        thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Exit status, stdout and stderr of a command, for failure messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fails the test, showing stdout and stderr, unless the command succeeded.
#[track_caller]
pub fn assert_success(out: &Output, what: &str) {
    assert!(out.status.success(), "{}", describe(what, out));
}

/// Fails the test, showing stdout and stderr, unless the command failed.
#[track_caller]
pub fn assert_failure(out: &Output, what: &str) {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        describe(what, out)
    );
}

/// Stdout of a command as text.
pub fn stdout_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a command as text.
pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
