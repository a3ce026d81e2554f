# use std::time::Duration;
# use wardial_probe::{Finding, Target};
# async fn patiently(target: Target, timeout: Duration, patience: Duration) -> Finding {
let mut probe = wardial_tokio::probe(target, timeout);
tokio::select! {
    finding = &mut probe => finding,
    () = tokio::time::sleep(patience) => probe.await,
}
# }
