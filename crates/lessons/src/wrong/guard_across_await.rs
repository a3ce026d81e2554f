# use std::sync::{Arc, Mutex};
# use std::time::Duration;
# use wardial_probe::Target;
# use wardial_tokio::probe;
# fn count(target: Target, timeout: Duration, servers: Arc<Mutex<u32>>) {
tokio::spawn(async move {
    let mut found = servers.lock().unwrap();
    let finding = probe(target, timeout).await;
    *found += u32::from(finding.outcome.is_server());
});
# }
