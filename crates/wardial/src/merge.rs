//! `wardial merge`: the outputs of a scan's shards joined into one result, each target once.
//!
//! Every output begins with its plan, so outputs of different plans (other targets, seed,
//! exclusions, ports or number of shards) are refused rather than mixed. Every finding carries
//! its position in the plan's order, so a target reported twice (a shard run twice) is kept
//! once, and a target reported by no output (a shard missing, or stopped) is a gap, named by
//! its address.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use clap::Args;
use roaring::RoaringTreemap;

use crate::scan::output::{read_records, End};
use crate::scan::plan::Plan;
use crate::targets::Shard;
use crate::{note, Failure};

/// How many gaps the report names by address.
const EXAMPLES: usize = 5;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' outputs (`wardial scan --output FILE`, or `--json --all` lines)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Write the merged result to FILE (default: stdout)
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<String>,
}

/// One shard's output as the merge reads it.
#[derive(Debug)]
struct Input {
    name: String,
    plan: Plan,
    shard: Shard,
}

/// What the merge found.
#[derive(Debug, Default)]
struct Tally {
    seen: RoaringTreemap,
    duplicates: u64,
    servers: u64,
    /// Outputs whose last run did not complete, with how it ended.
    unfinished: Vec<String>,
}

/// Runs `wardial merge`: the result on stdout or in `--output`, a report on stderr, and exit
/// code 1 if targets are missing.
pub fn command(a: MergeArgs) -> Result<ExitCode, Failure> {
    let inputs = a
        .files
        .iter()
        .map(|f| open(f))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = one_plan(&inputs)?;
    let shards = inputs[0].shard.count;
    // Written beside its final name and renamed when whole: the result may replace one of the
    // inputs (`-o shard-1.jsonl`), which must be read to its end first.
    let partial = a.output.as_ref().map(|p| format!("{p}.partial"));
    let out: Box<dyn Write> = match &partial {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::Usage(format!("cannot write '{path}': {e}")))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let tally = merge(&inputs, &plan, shards, out)?;
    if let (Some(partial), Some(path)) = (&partial, &a.output) {
        std::fs::rename(partial, path)
            .map_err(|e| Failure::Run(format!("cannot write '{path}': {e}")))?;
    }
    let present: Vec<u64> = inputs.iter().map(|i| i.shard.index).collect();
    let missing: Vec<u64> = (1..=shards).filter(|i| !present.contains(i)).collect();
    let gaps = plan.set_len.saturating_sub(tally.seen.len());
    report(&plan, &inputs, &tally, &missing, gaps);
    Ok(if gaps > 0 || !missing.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// An output's plan, from its first line.
fn open(name: &str) -> Result<Input, Failure> {
    let file = std::fs::File::open(name)
        .map_err(|e| Failure::Usage(format!("cannot read '{name}': {e}")))?;
    let mut first = String::new();
    BufReader::new(file)
        .read_line(&mut first)
        .map_err(|e| Failure::Usage(format!("cannot read '{name}': {e}")))?;
    let plan: Plan = serde_json::from_str(&first).map_err(|_| {
        Failure::Usage(format!(
            "'{name}' does not begin with a plan: it is not the output of `wardial scan --output` or `--json`"
        ))
    })?;
    let shard = plan
        .shard()
        .map_err(|e| Failure::Usage(format!("'{name}': {e}")))?;
    Ok(Input {
        name: name.to_string(),
        plan,
        shard,
    })
}

/// The plan all inputs share; refused if two differ, or if one holds only the servers.
fn one_plan(inputs: &[Input]) -> Result<Plan, Failure> {
    let first = &inputs[0];
    for i in inputs {
        if i.plan.plan != first.plan.plan {
            return Err(Failure::Usage(format!(
                "'{}' is of plan {} and '{}' of plan {}: shards of different scans (targets, ports, exclusions, seed or number of shards) cannot be merged",
                first.name, first.plan.plan, i.name, i.plan.plan
            )));
        }
        if !i.plan.every {
            return Err(Failure::Usage(format!(
                "'{}' holds only the servers found, so gaps cannot be told from hosts without one: scan with --output FILE or --all",
                i.name
            )));
        }
    }
    Ok(first.plan.clone())
}

/// Writes the plan, every finding once, and an end record; counts what it saw.
fn merge(
    inputs: &[Input],
    plan: &Plan,
    shards: u64,
    mut out: Box<dyn Write>,
) -> Result<Tally, Failure> {
    let written = |e: std::io::Error| Failure::Run(format!("cannot write the result: {e}"));
    let merged = Plan {
        shard: format!("1-{shards}/{shards}"),
        ..plan.clone()
    };
    writeln!(
        out,
        "{}",
        serde_json::to_string(&merged).expect("plain data")
    )
    .map_err(written)?;
    let mut tally = Tally::default();
    for input in inputs {
        read_one(input, &mut tally, &mut out)?;
    }
    let summary = wardial_probe::ScanSummary {
        completed: tally.seen.len(),
        servers: tally.servers,
        ..Default::default()
    };
    let ended = if tally.seen.len() == plan.set_len {
        "complete"
    } else {
        "gaps"
    };
    writeln!(out, "{}", End::new(&merged, ended, &summary).line()).map_err(written)?;
    out.flush().map_err(written)?;
    Ok(tally)
}

/// One input's findings: each position not seen before is written.
fn read_one(input: &Input, tally: &mut Tally, out: &mut Box<dyn Write>) -> Result<(), Failure> {
    let plan_len = input.plan.set_len;
    let read = |e: std::io::Error| Failure::Run(format!("cannot read '{}': {e}", input.name));
    let file = std::fs::File::open(&input.name).map_err(read)?;
    let mut last_end = None;
    // The plan line (no position) and a line cut short by a kill (left out) count nothing.
    let mut failed = None;
    read_records(&mut BufReader::new(file), |record, line| {
        if record["record"] == "end" {
            last_end = record["ended"].as_str().map(String::from);
        }
        // A position outside the plan, or of another shard, is not this output's finding.
        let Some(position) = record["position"]
            .as_u64()
            .filter(|&p| p < plan_len && input.shard.k_of(p).is_some())
        else {
            return Ok(());
        };
        if !tally.seen.insert(position) {
            tally.duplicates += 1;
            return Ok(());
        }
        tally.servers += u64::from(record["outcome"] == "http");
        if failed.is_none() {
            failed = out
                .write_all(line)
                .and_then(|()| out.write_all(b"\n"))
                .err();
        }
        Ok(())
    })
    .map_err(read)?;
    if let Some(e) = failed {
        return Err(Failure::Run(format!("cannot write the result: {e}")));
    }
    match last_end.as_deref() {
        Some("complete") => {}
        ended => tally.unfinished.push(format!(
            "shard {} ('{}') {}",
            input.shard,
            input.name,
            ended.map_or("has no end record (killed?)".into(), |e| format!(
                "last ended: {e}"
            ))
        )),
    }
    Ok(())
}

/// What the merge found, on stderr, a line each.
fn report(plan: &Plan, inputs: &[Input], tally: &Tally, missing: &[u64], gaps: u64) {
    let shards = plan.shard().map_or(0, |s| s.count);
    note(&format!(
        "merged {} output{} of plan {} ({} shards, {} targets): {} reported, {} servers, {} duplicate{} dropped, {} gap{}",
        inputs.len(),
        if inputs.len() == 1 { "" } else { "s" },
        plan.plan,
        shards,
        plan.set_len,
        tally.seen.len(),
        tally.servers,
        tally.duplicates,
        if tally.duplicates == 1 { "" } else { "s" },
        gaps,
        if gaps == 1 { "" } else { "s" },
    ));
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|i| format!("{i}/{shards}")).collect();
        note(&format!("missing shards: {}", list.join(", ")));
    }
    for line in &tally.unfinished {
        note(&format!("unfinished: {line}"));
    }
    if gaps > 0 {
        let examples: Vec<String> = (0..plan.set_len)
            .filter(|p| !tally.seen.contains(*p))
            .take(EXAMPLES)
            .map(|p| match plan.target_at(p) {
                Ok(t) => format!("{}:{}", t.addr, t.port),
                Err(_) => format!("position {p}"),
            })
            .collect();
        note(&format!(
            "never reported: {}{}",
            examples.join(", "),
            if gaps > EXAMPLES as u64 { ", ..." } else { "" }
        ));
    }
}
