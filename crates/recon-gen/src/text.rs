//! Text the generator writes: claves de rastreo in several banks' styles, names, Odoo float text.

use chrono::{Datelike, NaiveDateTime, Timelike};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A CLABE with its check digit computed from 17 digits.
pub fn valid_clabe(first_17: &str) -> String {
    let digits: Vec<u8> = first_17.bytes().map(|b| b - b'0').collect();
    let digits: [u8; 17] = digits.try_into().expect("17 digits");
    format!("{first_17}{}", recon_core::clabe::check_digit(&digits))
}

/// A clave de rastreo in BBVA, BanBajío, Banregio or STP style.
pub fn clave_rastreo(rng: &mut ChaCha8Rng, local: NaiveDateTime) -> String {
    match rng.random_range(0..4u32) {
        0 => format!("MBAN01002{}{:010}", local.format("%y%m%d"), rng.random_range(0..10_000_000_000u64)),
        1 => format!("BiB{}{:010}", local.format("%Y%m%d"), rng.random_range(0..10_000_000_000u64)),
        2 => {
            let letters: String = (0..5).map(|_| char::from(b'A' + rng.random_range(0..26u8))).collect();
            format!(
                "058-{:02}/{:02}/{}/{:02}-{:03}{letters}{:03}",
                local.day(),
                local.month(),
                local.year(),
                local.hour(),
                rng.random_range(0..1000u32),
                rng.random_range(0..1000u32)
            )
        }
        _ => format!("STP{}{:08}", local.format("%Y%m%d"), rng.random_range(0..100_000_000u32)),
    }
}

/// A 14-digit OXXO Pay reference.
pub fn oxxo_reference(rng: &mut ChaCha8Rng) -> String {
    format!("9300{:010}", rng.random_range(0..10_000_000_000u64))
}

const GIVEN: &[&str] = &[
    "María",
    "José",
    "Guadalupe",
    "Juan",
    "Fernanda",
    "Luis",
    "Ana",
    "Carlos",
    "Sofía",
    "Miguel",
    "Valeria",
    "Jorge",
    "Ximena",
    "Ricardo",
    "Daniela",
    "Alejandro",
];
const FAMILY: &[&str] = &[
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
];
const VENDORS: &[&str] = &[
    "Papelería",
    "Logística",
    "Servicios",
    "Consultores",
    "Distribuidora",
    "Tecnologías",
    "Transportes",
    "Alimentos",
    "Construcciones",
    "Comercializadora",
];
const PLACES: &[&str] = &[
    "del Bajío",
    "del Norte",
    "Azteca",
    "Peninsular",
    "de Occidente",
    "Integrales",
    "Globales",
    "del Pacífico",
    "Mexicanos",
    "Unidos",
];

/// A person's name: given name and two family names.
pub fn person_name(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{} {} {}",
        GIVEN[rng.random_range(0..GIVEN.len())],
        FAMILY[rng.random_range(0..FAMILY.len())],
        FAMILY[rng.random_range(0..FAMILY.len())]
    )
}

/// A company name with a legal form.
pub fn vendor_name(rng: &mut ChaCha8Rng) -> String {
    format!("{} {} SA de CV", VENDORS[rng.random_range(0..VENDORS.len())], PLACES[rng.random_range(0..PLACES.len())])
}

/// Minor units as Python prints a float: `1234.5`, `1234.0`, and now and then float noise such as
/// `1234.5000000000002` or `1234.4999999999998`. Built from digits: no float is involved.
pub fn float_text(rng: &mut ChaCha8Rng, amount_minor: i64, minor_units: u32) -> String {
    let divisor = 10_i64.pow(minor_units);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let magnitude = amount_minor.unsigned_abs();
    let integer = magnitude / divisor.unsigned_abs();
    let fraction = magnitude % divisor.unsigned_abs();
    let width = usize::try_from(minor_units).expect("small");
    let mut fraction_text = format!("{fraction:0width$}");
    while fraction_text.len() > 1 && fraction_text.ends_with('0') {
        fraction_text.pop();
    }
    if fraction_text.is_empty() {
        fraction_text.push('0');
    }
    let noisy = fraction != 0 && rng.random_range(0..20u32) == 0;
    if noisy {
        let significant = integer.to_string().len() + fraction_text.len();
        let pad = 17usize.saturating_sub(significant + 1);
        if rng.random_range(0..2u32) == 0 {
            return format!("{sign}{integer}.{fraction_text}{}2", "0".repeat(pad));
        }
        // Just below: 1234.5 -> 1234.4999999999998 (the last fraction digit is never 0 here).
        let mut lowered = fraction_text.clone().into_bytes();
        let last = lowered.len() - 1;
        lowered[last] -= 1;
        let lowered = String::from_utf8(lowered).expect("ASCII digits");
        return format!("{sign}{integer}.{lowered}{}8", "9".repeat(pad));
    }
    format!("{sign}{integer}.{fraction_text}")
}
