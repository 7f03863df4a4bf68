//! Volume (诉求量): cases received in the period, per 10,000 residents and per km²; compared
//! with the month before (环比) and the same month a year earlier (同比) in monthly tables.

use super::family::{Change, Column, CountContext, Derive, Family, Only, RowView};
use crate::vocab::column::Field;
use crate::vocab::record::CaseFacts;

pub struct Volume;
pub static VOLUME: Volume = Volume;

static COLUMNS: &[Column] = &[
    Column::new(Field::new("cases", "诉求量", "cases", "cases received in the period and assigned to the unit"), Derive::Records)
        .headline(Change::Relative),
    Column::new(
        Field::new(
            "cases_per_10k",
            "万人诉求比",
            "cases / 10k residents",
            "cases / population × 10,000; empty when a grid of the unit has no population, or it is 0",
        ),
        Derive::Float(per_10k, 2),
    )
    .only(Only::Places),
    Column::new(Field::new("density_per_km2", "诉求密度", "cases / km²", "cases / area_km2"), Derive::Float(density, 2)).only(Only::Places),
];

impl Family<CaseFacts> for Volume {
    fn name(&self) -> &'static str {
        "volume"
    }

    fn count(&self, _: &CaseFacts, _: &CountContext, _: &mut [u64], _: &mut [Option<i64>]) {}

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

fn per_10k(r: &RowView<'_>) -> Option<f64> {
    let place = r.place?;
    // A population that leaves out some grids would divide all their cases by part of
    // their residents.
    if place.grids_without_population > 0 {
        return None;
    }
    place.population.filter(|p| *p > 0.0).map(|p| r.records as f64 / p * 10_000.0)
}

fn density(r: &RowView<'_>) -> Option<f64> {
    let area = r.place?.area_km2;
    (area > 0.0).then(|| r.records as f64 / area)
}
