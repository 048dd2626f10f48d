//! Reading a policy to evaluate or simulate: the policy CSV decide writes (`state,action`,
//! optionally `action_name`), the same with a `probability` column for a randomised policy
//! (several rows per state), or a solution JSON (its `policy` array: an action id per state,
//! `null` for a terminal state, or `[[action, probability], ...]` for a randomised one).

use crate::{ReadError, ReadErrorKind};
use decide_core::{ActionId, StateId, TabularMdp};
use std::path::Path;

/// The columns a policy CSV may have.
const POLICY_COLUMNS: [&str; 4] = ["state", "action", "probability", "action_name"];

/// A stationary policy: for each state, the actions taken and their probabilities (one entry
/// with probability 1 for a deterministic policy; empty for a terminal state).
pub type Policy = Vec<Vec<(ActionId, f64)>>;

/// Reads a policy for `mdp` from a `.csv` or `.json` file, checking that every state has a
/// distribution over its available actions (sums within 1e-9).
pub fn read_policy(path: &Path, mdp: &TabularMdp) -> Result<Policy, ReadError> {
    let text = std::fs::read(path).map_err(|e| ReadError::new(path, None, ReadErrorKind::Io(e)))?;
    let format = |line: Option<u64>, message: String| {
        ReadError::new(path, line, ReadErrorKind::Format(message))
    };
    let n = mdp.n_states();
    let mut policy: Policy = vec![Vec::new(); n];
    let mut lines: Vec<Option<u64>> = vec![None; n];
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let document: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| format(Some(e.line() as u64), format!("not valid JSON: {e}")))?;
        let entries = document
            .get("policy")
            .and_then(|p| p.as_array())
            .ok_or_else(|| format(None, "no \"policy\" array".into()))?;
        if entries.len() != n {
            return Err(format(
                None,
                format!(
                    "the policy has {} entries but the model has {n} states",
                    entries.len()
                ),
            ));
        }
        for (s, entry) in entries.iter().enumerate() {
            match entry {
                serde_json::Value::Null => {}
                // A randomised state (as an s-rectangular robust solve writes it):
                // `[[action, probability], ...]`.
                serde_json::Value::Array(choices) => {
                    for choice in choices {
                        let pair = choice
                            .as_array()
                            .filter(|c| c.len() == 2)
                            .and_then(|c| {
                                let a = c[0].as_u64().filter(|&a| a <= u32::MAX as u64)?;
                                Some((ActionId(a as u32), c[1].as_f64()?))
                            })
                            .ok_or_else(|| {
                                format(
                                    None,
                                    format!(
                                        "policy[{s}]: {choice} is not an [action, probability] pair"
                                    ),
                                )
                            })?;
                        policy[s].push(pair);
                    }
                }
                other => {
                    let a = other
                        .as_u64()
                        .filter(|&a| a <= u32::MAX as u64)
                        .ok_or_else(|| {
                            format(None, format!("policy[{s}]: {other} is not an action id"))
                        })?;
                    policy[s].push((ActionId(a as u32), 1.0));
                }
            }
        }
    } else {
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_slice());
        let headers = reader
            .headers()
            .map_err(|e| format(Some(1), e.to_string()))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
        };
        // A file of another kind (a model CSV passed as --policy) is the caller's mistake:
        // name what is not a policy column.
        let unknown: Vec<String> = headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}'))
            .filter(|h| !POLICY_COLUMNS.contains(h))
            .map(|h| format!("{h:?}"))
            .collect();
        if !unknown.is_empty() {
            return Err(ReadError::new(
                path,
                Some(1),
                ReadErrorKind::Usage(format!(
                    "not a policy file: unknown column{} {} (a policy CSV has columns {})",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join(", "),
                    POLICY_COLUMNS.join(", ")
                )),
            ));
        }
        let (Some(state_col), Some(action_col)) = (column("state"), column("action")) else {
            return Err(format(
                Some(1),
                "the header needs columns state and action".into(),
            ));
        };
        let probability_col = column("probability");
        for record in reader.records() {
            let record =
                record.map_err(|e| format(e.position().map(|p| p.line()), e.to_string()))?;
            let line = record.position().map(|p| p.line());
            let field = |i: usize| record.get(i).unwrap_or("");
            let state: usize = field(state_col)
                .parse()
                .ok()
                .filter(|&s| s < n)
                .ok_or_else(|| {
                    format(
                        line,
                        format!(
                            "state {:?} is not a state of the model (0..{n})",
                            field(state_col)
                        ),
                    )
                })?;
            if field(action_col).is_empty() {
                continue; // a terminal state
            }
            let action: u32 = field(action_col).parse().map_err(|_| {
                format(
                    line,
                    format!("action {:?} is not an action id", field(action_col)),
                )
            })?;
            let probability = match probability_col {
                Some(c) => field(c)
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && (0.0..=1.0).contains(p))
                    .ok_or_else(|| {
                        format(line, format!("probability {:?} is not in [0, 1]", field(c)))
                    })?,
                None => 1.0,
            };
            if probability_col.is_none() && !policy[state].is_empty() {
                return Err(format(
                    line,
                    format!(
                        "state {} appears twice in a deterministic policy (a randomised policy has a probability column)",
                        StateId(state as u32)
                    ),
                ));
            }
            lines[state].get_or_insert(line.unwrap_or(0));
            policy[state].push((ActionId(action), probability));
        }
    }
    for (s, choices) in policy.iter().enumerate() {
        let state = StateId(s as u32);
        let line = lines[s].filter(|&l| l > 0);
        if mdp.is_terminal(state) || mdp.pairs(state).is_empty() {
            continue;
        }
        if choices.is_empty() {
            return Err(format(
                None,
                format!("state {state}: the policy gives no action"),
            ));
        }
        for &(a, _) in choices {
            if mdp.pair_of(state, a).is_none() {
                return Err(format(
                    line,
                    format!("state {state}: action {a} is not available there"),
                ));
            }
        }
        let total: f64 = choices.iter().map(|c| c.1).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(format(
                line,
                format!("state {state}: action probabilities sum to {total}, not 1"),
            ));
        }
    }
    Ok(policy)
}

/// The Markov reward process a policy induces: one action (0) per state whose outcomes are the
/// policy-weighted outcomes of the model (merged by the builder). Terminal states, their values
/// and the names are kept.
pub fn induced_chain(
    mdp: &TabularMdp,
    policy: &Policy,
) -> Result<TabularMdp, decide_core::BuildError> {
    let mut b = decide_core::MdpBuilder::new();
    // The model was validated already; only rounding of the weighted sums can differ, and a
    // Cassandra model may carry its format's 1e-5.
    b.options(decide_core::ValidationOptions::with_tolerance(1e-5));
    b.declare_states(mdp.n_states() as u64)?;
    for s in 0..mdp.n_states() {
        let state = StateId(s as u32);
        if mdp.is_terminal(state) {
            b.mark_terminal_with_value(s as u64, mdp.terminal_value(s))?;
            continue;
        }
        for &(a, weight) in &policy[s] {
            let Some(k) = mdp.pair_of(state, a) else {
                continue;
            };
            for o in mdp.outcomes(k) {
                b.add(
                    s as u64,
                    0,
                    o.next.0 as u64,
                    weight * o.probability,
                    o.reward,
                )?;
            }
        }
    }
    if let Some(names) = mdp.state_names() {
        b.state_names(names.to_vec());
    }
    Ok(b.build()?.0)
}
