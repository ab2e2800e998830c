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
