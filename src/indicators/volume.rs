//! Volume (诉求量): cases received in the period, per 10,000 residents and per km², and month
//! on month (环比).

use super::family::{Column, Derive, Family, Only, RowView, TableView};
use crate::vocab::column::Field;
use crate::vocab::record::CaseFacts;

pub struct Volume;
pub static VOLUME: Volume = Volume;

static COLUMNS: &[Column] = &[
    Column::new(Field::new("cases", "诉求量", "cases", "cases received in the period and assigned to the unit"), Derive::Records),
    Column::new(
        Field::new(
            "cases_per_10k",
            "万人诉求比",
            "cases / 10k residents",
            "cases / population × 10,000 (empty when population is 0 or unknown)",
        ),
        Derive::Float(per_10k, 2),
    )
    .only(Only::Places),
    Column::new(Field::new("density_per_km2", "诉求密度", "cases / km²", "cases / area_km2"), Derive::Float(density, 2)).only(Only::Places),
    Column::new(
        Field::new("cases_prev_month", "上月诉求量", "cases", "cases of the same unit in the previous month (monthly tables)"),
        Derive::TableInt(prev_month),
    )
    .only(Only::Monthly),
    Column::new(
        Field::new("cases_mom_rate", "诉求量环比", "share", "(cases − cases_prev_month) / cases_prev_month"),
        Derive::TableFloat(mom_rate, 4),
    )
    .only(Only::Monthly),
];

impl Family<CaseFacts> for Volume {
    fn name(&self) -> &'static str {
        "volume"
    }

    fn count(&self, _: &CaseFacts, _: &super::family::CountContext, _: &mut [u64], _: &mut [Option<i64>]) {}

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

fn per_10k(r: &RowView<'_>) -> Option<f64> {
    r.place?.population.filter(|p| *p > 0.0).map(|p| r.records as f64 / p * 10_000.0)
}

fn density(r: &RowView<'_>) -> Option<f64> {
    let area = r.place?.area_km2;
    (area > 0.0).then(|| r.records as f64 / area)
}

/// The row of the same unit's previous month (rows are unit-major, months in order).
pub fn prev_row(t: &TableView<'_>, r: usize) -> Option<usize> {
    let nm = t.months?;
    (r % nm > 0).then(|| r - 1)
}

fn prev_month(t: &TableView<'_>) -> Vec<Option<i64>> {
    (0..t.rows.len()).map(|r| prev_row(t, r).map(|q| t.rows[q].records as i64)).collect()
}

fn mom_rate(t: &TableView<'_>) -> Vec<Option<f64>> {
    (0..t.rows.len())
        .map(|r| {
            let (now, before) = (t.rows[r].records, t.rows[prev_row(t, r)?].records);
            (before > 0).then(|| (now as f64 - before as f64) / before as f64)
        })
        .collect()
}
