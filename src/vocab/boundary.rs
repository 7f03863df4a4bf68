//! Which grid gets a point that lies in the closed area of more than one grid.

use serde::{Deserialize, Serialize};

/// Which grid gets a point that lies in the closed area of more than one grid: on a shared edge
/// or vertex, or where grids overlap. The answer never depends on thread timing or candidate
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryRule {
    /// The grid with the smallest code (string order). Deterministic and independent of the
    /// layer's feature order: the default.
    #[default]
    SmallestCode,
    /// The grid with the largest code.
    LargestCode,
    /// No grid: the case goes to the quarantine as `ambiguous_boundary`. Use it to measure how
    /// many cases sit exactly on boundaries.
    Reject,
}
