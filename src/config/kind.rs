//! What a record kind asks of its sources' configuration: the fields a source may map (and
//! which it must), its value groups and their built-in spellings, the options that apply, and
//! any rule of its own. Each kind's spec sits beside its row checks in `io::kinds`; the
//! pipeline hands the specs to `resolve` in a [`Catalog`].

use std::collections::BTreeMap;

use super::resolve::GridProperties;

/// The configuration side of a record kind.
#[derive(Debug)]
pub struct KindSpec {
    /// The kind's name: `kind = "…"` in `[[sources]]`, and the table of its short form.
    pub name: &'static str,
    /// The field that holds the record's key (its id): `rejects.csv`'s `record_key`.
    pub key: &'static str,
    /// Every field a source of the kind may map, in documentation order.
    pub fields: &'static [FieldSpec],
    /// Coded values (yes/no, answers, statuses): each group's built-in spellings, to which a
    /// source's `values.<group>` adds.
    pub values: &'static [ValueGroup],
    /// Pairs of value groups that answer one question: a spelling may not be in both.
    pub exclusive: &'static [(&'static str, &'static str)],
    /// The source options that apply (others are an error, as an unknown key is).
    pub options: Options,
    /// Fields whose distinct values get tables of their own (category, department, …).
    pub dimensions: &'static [&'static str],
    /// Rules of the kind's own about its mapping (e.g. both lon and lat, or neither).
    pub check: fn(&SourceCheck<'_>, &mut Vec<String>),
}

/// One field of a kind.
#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    /// What the field holds, for messages and docs.
    pub about: &'static str,
}

/// A group of coded values and its built-in spellings.
#[derive(Debug)]
pub struct ValueGroup {
    pub name: &'static str,
    pub builtin: &'static [&'static str],
}

/// The source options a kind reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `crs`: points in a coordinate system.
    pub crs: bool,
    /// `timestamp_formats` and `time_zone`.
    pub timestamps: bool,
    /// `date_formats`.
    pub dates: bool,
}

/// What a kind's own rule sees of a source.
pub struct SourceCheck<'a> {
    /// The source's key path, e.g. `cases[1]`.
    pub key: &'a str,
    pub columns: &'a BTreeMap<String, String>,
    pub grid_properties: &'a GridProperties,
}

/// What `resolve` must be told about the rest of the program: the record kinds and the rates
/// a map can show (with the count that is each one's n).
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a> {
    pub kinds: &'a [&'a KindSpec],
    pub mappable: &'a [(&'a str, &'a str)],
    /// Every column a table may have (for the assessment's components).
    pub columns: &'a [&'a str],
}

impl KindSpec {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}
