//! Every model, by the name used in tables and `--model`.

use wardial_probe::Probe;

use crate::Failure;

/// In the order the race runs and prints them: slowest idea first.
pub const NAMES: [&str; 16] = [
    "blocking",
    "blocking-ureq",
    "threads",
    "rayon",
    "rayon-sized",
    "callbacks",
    "own-state-machine",
    "own-promises",
    "own-async-fn",
    "green-threads",
    "uring",
    "tokio",
    "tokio-current-thread",
    "async-std",
    "smol",
    "compio",
];

/// Builds the model called `name` (an async model builds its runtime here, once): `None` for an
/// unknown name, `Some(Err(reason))` for a model that cannot run here (io_uring refused by the
/// kernel, or not Linux), in one line.
pub fn build(name: &str) -> Option<Result<Box<dyn Probe>, String>> {
    Some(Ok(match name {
        "blocking" => Box::new(wardial_blocking::Blocking),
        "blocking-ureq" => Box::new(wardial_blocking::BlockingUreq::default()),
        "threads" => Box::new(wardial_threads::Threads),
        "rayon" => Box::new(wardial_threads::Rayon::per_core()),
        "rayon-sized" => Box::new(wardial_threads::Rayon::sized()),
        "callbacks" => Box::new(wardial_callbacks::Callbacks),
        "own-state-machine" => Box::new(wardial_own_runtime::state_machine()),
        "own-promises" => Box::new(wardial_own_runtime::promises()),
        "own-async-fn" => Box::new(wardial_own_runtime::async_fn()),
        "green-threads" => Box::new(wardial_green_threads::GreenThreads::default()),
        "uring" => return Some(boxed(wardial_uring::Uring::new())),
        "compio" => return Some(boxed(wardial_uring::Compio::new())),
        "tokio" => Box::new(wardial_tokio::Tokio::multi_thread()),
        "tokio-current-thread" => Box::new(wardial_tokio::Tokio::current_thread()),
        "async-std" => Box::new(wardial_async_std::AsyncStd),
        "smol" => Box::new(wardial_smol::Smol::default()),
        _ => return None,
    }))
}

/// A model that may be unavailable here, boxed, or the reason it is not.
fn boxed<P: Probe + 'static>(
    model: Result<P, wardial_uring::Unavailable>,
) -> Result<Box<dyn Probe>, String> {
    match model {
        Ok(model) => Ok(Box::new(model)),
        Err(why) => Err(why.to_string()),
    }
}

/// Builds the model called `name` for a command that cannot go on without it: an unknown name
/// is bad input, a model unavailable here a failure to run.
pub fn require(name: &str) -> Result<Box<dyn Probe>, Failure> {
    match build(name) {
        None => Err(Failure::Usage(parse(name).unwrap_err())),
        Some(Ok(model)) => Ok(model),
        Some(Err(reason)) => Err(Failure::Run(format!(
            "model '{name}' is unavailable here: {reason}"
        ))),
    }
}

/// Names that models had before their names said both their style and their runtime (all three
/// styles run on the same hand-written runtime), still accepted so that scripts and notes
/// written for them keep working.
pub const RENAMED: [(&str, &str); 3] = [
    ("state-machine", "own-state-machine"),
    ("promises", "own-promises"),
    ("own-runtime", "own-async-fn"),
];

/// Parses a model name for clap, naming the valid ones on error. An old name gives its model,
/// with a line on stderr that says the new name.
pub fn parse(name: &str) -> Result<String, String> {
    if let Some((old, new)) = RENAMED.iter().find(|(old, _)| *old == name) {
        crate::note(&format!("wardial: the model '{old}' is now called '{new}'"));
        return Ok(new.to_string());
    }
    if NAMES.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "unknown model '{name}' (choose from: {})",
            NAMES.join(", ")
        ))
    }
}

/// Parses a comma-separated list of model names, or `all`.
pub fn parse_list(list: &str) -> Result<Vec<String>, String> {
    if list.trim() == "all" {
        return Ok(NAMES.iter().map(|s| s.to_string()).collect());
    }
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect::<Result<_, _>>()?;
    if names.is_empty() {
        return Err(format!(
            "no models given (choose from: all, {})",
            NAMES.join(", ")
        ));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_a_model_of_that_name() {
        for name in NAMES {
            match build(name).unwrap() {
                Ok(model) => assert_eq!(model.name(), name),
                // Only a completion model may be unavailable, and only with a reason.
                Err(reason) => assert!(
                    ["uring", "compio"].contains(&name) && !reason.is_empty(),
                    "{name}: {reason}"
                ),
            }
        }
        assert!(build("nope").is_none());
    }

    #[test]
    fn lists_parse() {
        assert_eq!(parse_list("all").unwrap().len(), NAMES.len());
        assert_eq!(parse_list("tokio, smol").unwrap(), ["tokio", "smol"]);
        let e = parse_list("tokio,fast").unwrap_err();
        assert!(
            e.contains("unknown model 'fast'") && e.contains("callbacks"),
            "{e}"
        );
        assert!(parse_list(",").is_err());
        assert_eq!(
            parse_list("own-runtime,promises,state-machine").unwrap(),
            ["own-async-fn", "own-promises", "own-state-machine"]
        );
    }
}
