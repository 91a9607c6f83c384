//! Facts about what the internet sees (the ISP stage). Filled by `probe::isp`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IspFacts {}
