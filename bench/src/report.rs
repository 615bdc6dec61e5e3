//! The result table: one row per figure, its ratio to the raw client and its target.

pub(crate) struct Row {
    pub(crate) workload: String,
    pub(crate) fencelock: String,
    pub(crate) raw: String,
    pub(crate) ratio: String,
    pub(crate) target: String,
    pub(crate) pass: bool,
}

pub(crate) fn pass_str(p: bool) -> &'static str {
    if p {
        "pass"
    } else {
        "FAIL"
    }
}

pub(crate) fn print_table(rows: &[Row], raw_label: &str) {
    let head = [
        "workload",
        "fencelock",
        raw_label,
        "ratio",
        "target",
        "result",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.workload.clone(),
                r.fencelock.clone(),
                r.raw.clone(),
                r.ratio.clone(),
                r.target.clone(),
                pass_str(r.pass).to_owned(),
            ]
        })
        .collect();
    let mut width = head.map(|h| h.chars().count());
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |c: &[String]| {
        let parts: Vec<String> = c
            .iter()
            .zip(width)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(&head.map(String::from));
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for c in &cells {
        line(c);
    }
}
