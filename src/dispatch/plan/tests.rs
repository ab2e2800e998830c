use std::path::PathBuf;

use super::*;

#[test]
fn the_obstacle_to_a_send_is_what_sending_would_refuse() {
    let mut config = Config::from_toml(
        "[agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"UNSET\"\n\
         [agents.covered]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"UNSET\"\nfallback = [\"local\"]\n\
         [agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\n\
         [agents.modelless]\nprovider = \"openai\"\n\
         [agents.tool]\nprovider = \"command\"\ncommand = [\"cat\"]\n",
    )
    .unwrap();
    let file = PathBuf::from("/ws/baton.toml");
    config.workspace_path = Some(file.clone());
    config
        .agent_locations
        .insert("tool".to_owned(), (file, 0..0));
    let key_set = |variable: &str| variable != "UNSET";
    let short = |agent: &str, trusted: bool| {
        obstacle(&config, agent, trusted, &key_set).and_then(|refusal| refusal.short())
    };
    assert_eq!(short("ghost", false).as_deref(), Some("unknown agent"));
    assert_eq!(short("keyed", false).as_deref(), Some("UNSET not set"));
    assert_eq!(short("covered", false), None, "its fallback needs no key");
    assert_eq!(short("local", false), None);
    assert_eq!(short("modelless", false).as_deref(), Some("no model"));
    assert_eq!(short("tool", false).as_deref(), Some("needs trust"));
    assert_eq!(short("tool", true), None);
    let missing = obstacle(&config, "keyed", true, &key_set).unwrap();
    assert!(missing.to_string().contains("`UNSET`, which is not set"));
}

mod threads {
    use std::path::Path;

    use super::*;
    use crate::agent::Role;
    use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
    use crate::dispatch::thread::{ThreadKey, Turn};

    const CONFIG: &str =
        "[agents.writer]\nprovider = \"openai\"\nmodel = \"m\"\nfallback = [\"other\"]\n\
         [agents.other]\nprovider = \"openai\"\nmodel = \"m\"\n";
    const BRIEF: &str = "# Scan @writer\n## Objective\nPrices.\n";

    /// Plans the brief of `text` at `/ws/a.brief.md`; `turns` reads its threads.
    fn planned(text: &str, turns: &dyn Fn(&Path, &ThreadKey) -> Vec<Turn>) -> Plan {
        let mut config = Config::from_toml(CONFIG).unwrap();
        config.root = Some("/ws".into());
        let settings = Settings::new(config);
        let document = Document::new(text);
        let path = Path::new("/ws/a.brief.md");
        let context = Context {
            config: &settings.config,
            kinds: &settings.kinds,
            path: Some(path),
            others: &NoOtherDocuments,
            machine: &Machine::default(),
            failed_runs: &[],
            over_budget: &[],
        };
        let analysis = lint(&document, &context);
        plan(&Ask {
            path,
            document: &document,
            analysis: &analysis,
            settings: &settings,
            brief: 0,
            agent: None,
            selection: None,
            trusted: true,
            inputs: &[],
            turns,
            corrections: &|_, _| None,
        })
        .unwrap()
    }

    fn roles(attempt: &Attempt) -> Vec<Role> {
        let messages = &attempt.request.messages;
        messages.iter().map(|message| message.role).collect()
    }

    #[test]
    fn each_agent_is_sent_its_own_threads_turns_before_the_payload() {
        let earlier = |root: &Path, key: &ThreadKey| {
            assert_eq!(root, Path::new("/ws"), "threads live beside the journal");
            let writer = key.file_name().ends_with(".writer.jsonl");
            let turn = Turn {
                run: Some("01A".into()),
                user: "Before.".into(),
                assistant: Some("Answered.".into()),
            };
            if writer {
                vec![turn]
            } else {
                Vec::new()
            }
        };
        let plan = planned(BRIEF, &earlier);
        let [writer, other] = &plan.attempts[..] else {
            panic!("two attempts: {:?}", plan.attempts);
        };
        assert_eq!(roles(writer), [Role::User, Role::Assistant, Role::User]);
        assert_eq!(writer.request.messages[1].content, "Answered.");
        assert_eq!(writer.request.messages[2].content, plan.payload.text);
        assert_eq!(
            roles(other),
            [Role::User],
            "the fallback's own thread is empty"
        );
        assert_eq!(plan.thread, writer.thread);
        assert_ne!(writer.thread, other.thread);
        let preview = preview(&plan);
        assert!(preview
            .contains("## Earlier in the thread (assistant)\n\nAnswered.\n## Message (user)"));
    }

    #[test]
    fn thread_none_reads_no_thread_and_names_none() {
        let never = |_: &Path, _: &ThreadKey| -> Vec<Turn> { panic!("no thread is read") };
        let plan = planned(&format!("---\nthread: none\n---\n{BRIEF}"), &never);
        assert_eq!(plan.thread, None);
        assert!(plan.attempts.iter().all(|attempt| attempt.thread.is_none()));
        assert_eq!(roles(&plan.attempts[0]), [Role::User]);
        assert!(!preview(&plan).contains("Earlier"));
    }
}
