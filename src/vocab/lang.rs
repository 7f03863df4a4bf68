//! The language of what people read: the report, chart titles and labels, map legends and the
//! spreadsheet's headers (`language = "zh" | "en"` in the pipeline; Chinese by default). Data
//! files keep their English keys whatever the language.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The text in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The HTML `lang` attribute.
    pub fn html(self) -> &'static str {
        self.pick("zh-CN", "en")
    }
}
