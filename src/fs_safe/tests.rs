//! `fs_safe` against planted links, in throwaway folders: what is refused, what the user is
//! told, and that nothing outside is written.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use tempfile::TempDir;

use super::*;

/// A workspace and, beside it, a folder standing for the rest of the user's disk.
struct Scene {
    _dir: TempDir,
    root: PathBuf,
    outside: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let outside = dir.path().join("home");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        Scene {
            _dir: dir,
            root,
            outside,
        }
    }

    fn victim(&self, text: &str) -> PathBuf {
        let victim = self.outside.join(".bashrc");
        fs::write(&victim, text).unwrap();
        victim
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_baton_folder_is_made_with_its_gitignore_and_the_users_edit_stays() {
    let scene = Scene::new();
    let baton = baton_dir(&scene.root).unwrap();
    assert_eq!(baton.path(), scene.root.join(".baton"));
    let gitignore = scene.root.join(".baton/.gitignore");
    assert_eq!(fs::read_to_string(&gitignore).unwrap(), GITIGNORE);
    assert!(GITIGNORE.lines().any(|line| line == "*"));
    fs::write(&gitignore, "runs/\n").unwrap();
    baton_dir(&scene.root).unwrap();
    assert_eq!(fs::read_to_string(&gitignore).unwrap(), "runs/\n");
    let runs = baton.subdir("runs").unwrap();
    let error = runs.subdir("..").unwrap_err();
    assert!(
        error.to_string().contains("not a plain file name"),
        "{error}"
    );
    assert_eq!(entries(baton.path()), [".gitignore", "runs"]);
}

#[test]
fn a_baton_folder_that_is_a_link_is_refused_existing_or_dangling() {
    for dangling in [false, true] {
        let scene = Scene::new();
        let target = scene.outside.join("elsewhere");
        if !dangling {
            fs::create_dir(&target).unwrap();
        }
        symlink(&target, scene.root.join(".baton")).unwrap();
        let error = baton_dir(&scene.root).unwrap_err();
        assert!(matches!(error, WriteError::LinkedFolder { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` is a symbolic link; baton writes only into a real folder inside the workspace: remove it",
                scene.root.join(".baton").display()
            )
        );
        assert_eq!(
            target.exists(),
            !dangling,
            "nothing is created through the link"
        );
        if !dangling {
            assert!(entries(&target).is_empty(), "nothing is written there");
        }
    }
}

#[test]
fn a_baton_that_is_a_file_is_refused() {
    let scene = Scene::new();
    fs::write(scene.root.join(".baton"), "x").unwrap();
    let error = baton_dir(&scene.root).unwrap_err();
    assert!(matches!(error, WriteError::NotAFolder { .. }), "{error}");
    assert!(error.to_string().contains("is not a folder"), "{error}");
}

#[test]
fn a_subfolder_that_is_a_link_is_refused() {
    let scene = Scene::new();
    let baton = baton_dir(&scene.root).unwrap();
    symlink(&scene.outside, scene.root.join(".baton/runs")).unwrap();
    let error = baton.subdir("runs").unwrap_err();
    assert!(matches!(error, WriteError::LinkedFolder { .. }), "{error}");
    assert!(error.to_string().contains(".baton/runs"), "{error}");
    assert!(entries(&scene.outside).is_empty());
}

#[test]
fn a_gitignore_that_is_a_link_is_refused_and_its_target_not_created() {
    let scene = Scene::new();
    fs::create_dir(scene.root.join(".baton")).unwrap();
    let target = scene.outside.join("created-by-baton");
    symlink(&target, scene.root.join(".baton/.gitignore")).unwrap();
    let error = baton_dir(&scene.root).unwrap_err();
    assert!(matches!(error, WriteError::LinkedFile { .. }), "{error}");
    assert!(error.to_string().contains(".baton/.gitignore"), "{error}");
    assert!(!target.exists());
}

#[test]
fn new_files_are_never_written_through_a_link() {
    let scene = Scene::new();
    let baton = baton_dir(&scene.root).unwrap();
    let victim = scene.victim("mine\n");
    symlink(&victim, baton.path().join("existing")).unwrap();
    let missing = scene.outside.join("missing");
    symlink(&missing, baton.path().join("dangling")).unwrap();
    for name in ["existing", "dangling"] {
        let error = baton.write_new(name, b"evil").unwrap_err();
        assert!(
            matches!(error, WriteError::LinkedFile { .. }),
            "{name}: {error}"
        );
        let error = baton.append(name).unwrap_err();
        assert!(
            matches!(error, WriteError::LinkedFile { .. }),
            "{name}: {error}"
        );
        let error = baton.replace(name, b"evil").unwrap_err();
        assert!(
            matches!(error, WriteError::LinkedFile { .. }),
            "{name}: {error}"
        );
        assert!(fs::symlink_metadata(baton.path().join(name))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "mine\n");
    assert!(!missing.exists());
}

#[test]
fn a_new_file_is_new_and_an_appended_file_grows() {
    let scene = Scene::new();
    let baton = baton_dir(&scene.root).unwrap();
    baton.write_new("a", b"one\n").unwrap();
    let again = baton.write_new("a", b"two\n").unwrap_err();
    assert!(again.already_exists(), "{again}");
    std::io::Write::write_all(&mut baton.append("a").unwrap(), b"two\n").unwrap();
    assert_eq!(
        fs::read_to_string(baton.path().join("a")).unwrap(),
        "one\ntwo\n"
    );
    fs::create_dir(baton.path().join("d")).unwrap();
    assert!(matches!(
        baton.append("d"),
        Err(WriteError::Io { .. } | WriteError::NotAFile { .. })
    ));
    for name in ["../a", "x/y", "", "/etc/passwd"] {
        let error = baton.write_new(name, b"x").unwrap_err();
        assert!(
            error.to_string().contains("not a plain file name"),
            "{name}: {error}"
        );
    }
}

#[test]
fn a_replaced_file_keeps_its_permissions_and_leaves_no_temp_file() {
    let scene = Scene::new();
    let file = scene.root.join("task.brief.md");
    fs::write(&file, "old").unwrap();
    fs::set_permissions(&file, Permissions::from_mode(0o640)).unwrap();
    replace_atomically(&file, b"new").unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "new");
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(entries(&scene.root), ["task.brief.md"]);
    replace_atomically(&scene.root.join("fresh"), b"x").unwrap();
    assert_eq!(fs::read_to_string(scene.root.join("fresh")).unwrap(), "x");
    let error = replace_atomically(&scene.root, b"x").unwrap_err();
    assert!(matches!(error, WriteError::NotAFile { .. }), "{error}");
}

#[test]
fn a_folder_of_another_user_is_refused() {
    // Tests may run as root, who can make no folder of another user's without chown; the rule
    // is checked on a real folder's facts with the user's uid injected instead.
    let scene = Scene::new();
    let metadata = fs::symlink_metadata(&scene.root).unwrap();
    let found = Found::of(&metadata);
    let owner = found.owner.unwrap();
    assert!(check_folder(&scene.root, found, Some(owner)).is_ok());
    assert!(check_folder(&scene.root, found, None).is_ok());
    let stranger = owner.wrapping_add(1);
    let error = check_folder(&scene.root, found, Some(stranger)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` belongs to another user (uid {owner}; you are uid {stranger}); baton writes only into folders you own: remove it, or make it yours",
            scene.root.display()
        )
    );
    assert_eq!(
        current_user(),
        Some(owner),
        "a folder just made is the user's"
    );
}
