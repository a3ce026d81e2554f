# use std::time::Duration;
# use wardial_probe::Target;
# use wardial_tokio::probe;
# async fn first_of(targets: Vec<Target>, timeout: Duration) {
let first = tokio::spawn(async { probe(targets[0], timeout).await });
# let _ = first.await;
# }
