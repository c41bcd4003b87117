//! Entities, a counting store wrapper and the typed-layer cases every backend runs.
#![allow(dead_code)]

pub mod cases;
pub mod counting;
pub mod entities;
