//! Solution JSON and policy CSV writers (being written).
