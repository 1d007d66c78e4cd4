-- Currencies, partners and companies, the same for every Odoo version.
-- Company 1 keeps its books in MXN; company 2 (same database) in USD.
INSERT INTO res_currency (id, name, symbol, rounding, decimal_places, active) VALUES
  (1, 'EUR', '€', 0.01, 2, false),
  (2, 'USD', '$', 0.01, 2, true),
  (33, 'MXN', '$', 0.01, 2, true);

INSERT INTO res_partner (id, name, complete_name, parent_id, company_id, is_company, vat, active) VALUES
  (1, 'Recon Demo SA de CV', 'Recon Demo SA de CV', NULL, NULL, true, 'RDE240101AB1', true),
  (2, 'Recon Demo USA LLC', 'Recon Demo USA LLC', NULL, NULL, true, NULL, true),
  (7, 'Abarrotes La Esperanza SA de CV', 'Abarrotes La Esperanza SA de CV', NULL, NULL, true, 'ALE010203XY9', true),
  (8, 'Conekta', 'Conekta', NULL, NULL, true, 'CON1306264Z5', true),
  (9, 'Papelería del Centro', 'Papelería del Centro', NULL, NULL, true, 'PCE950505QW2', true),
  (10, 'Juan Pérez', 'Abarrotes La Esperanza SA de CV, Juan Pérez', 7, NULL, false, NULL, true);

INSERT INTO res_company (id, name, partner_id, currency_id, parent_id) VALUES
  (1, 'Recon Demo SA de CV', 1, 33, NULL),
  (2, 'Recon Demo USA LLC', 2, 2, NULL);
