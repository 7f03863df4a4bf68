//! `run --dry-run` and `validate`: the plan of a run, printed on stdout.

use gridgov::config::Pipeline;
use gridgov::pipeline::RunReport;

/// The dry-run plan, on stdout: inputs, coordinate decisions, outputs, gates.
pub fn print_plan(p: &Pipeline, r: &RunReport) {
    let Some(m) = &r.manifest else { return };
    let mut out = String::new();
    let published = p.output_dir.join("runs").join(&r.run_id).join("manifest.json").is_file();
    out.push_str(&format!("plan: pipeline {} ({}), period {}, as of {}\n", p.name, p.title, p.period.label(), p.period.as_of));
    out.push_str(&format!(
        "run id: {}{}\n",
        r.run_id,
        if published { " (already published: `run` would write nothing without --force)" } else { "" }
    ));
    out.push_str("inputs:\n");
    for i in &m.inputs {
        out.push_str(&format!(
            "  {:<8} {:<12} {}  {} {}, {} bytes, sha256 {}…; coordinates {}: {}\n",
            i.kind,
            i.name,
            i.path,
            i.rows_read,
            if i.kind == "grids" { "features" } else { "rows" },
            i.bytes,
            &i.sha256[..12.min(i.sha256.len())],
            i.crs,
            i.transform
        ));
    }
    out.push_str(&format!("outputs, into {}/runs/{}/:\n", p.output_dir.display(), r.run_id));
    for o in &r.planned_outputs {
        out.push_str(&format!("  {o}\n"));
    }
    out.push_str("quality gates:\n");
    for g in &m.gates {
        out.push_str(&format!(
            "  {:<4} {} for {}: {} (limit {})\n",
            if g.passed { "pass" } else { "FAIL" },
            g.name,
            g.source,
            g.value,
            g.limit
        ));
    }
    print!("{out}");
}
