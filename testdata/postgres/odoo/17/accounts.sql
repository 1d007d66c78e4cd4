-- Odoo 17 accounts: one company each, the code stored in `code`.
INSERT INTO account_account (id, name, code, company_id, account_type, currency_id, reconcile, deprecated) VALUES
  (10, '{"en_US": "STP Bank", "es_MX": "Bancos STP"}', '102.01.01', 1, 'asset_cash', NULL, false, false),
  (11, '{"en_US": "BBVA USD"}', '102.01.02', 1, 'asset_cash', 2, false, false),
  (12, '{"en_US": "Domestic customers", "es_MX": "Clientes nacionales"}', '105.01.01', 1, 'asset_receivable', NULL, true, false),
  (13, '{"en_US": "Domestic suppliers", "es_MX": "Proveedores nacionales"}', '201.01.01', 1, 'liability_payable', NULL, true, false),
  (14, '{"en_US": "Bank fees", "es_MX": "Comisiones bancarias"}', '601.84.01', 1, 'expense', NULL, false, false),
  (15, '{"en_US": "Conekta receivable", "es_MX": "Conekta por cobrar"}', '105.02.01', 1, 'asset_current', NULL, true, false),
  (16, '{"en_US": "Santander", "es_MX": "Santander"}', '102.01.09', 1, 'asset_cash', NULL, false, false),
  (20, '{"en_US": "Bank"}', '102.01.01', 2, 'asset_cash', NULL, false, false),
  (21, '{"en_US": "Account Receivable"}', '121000', 2, 'asset_receivable', NULL, true, false);
