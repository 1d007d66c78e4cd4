-- Odoo 18 accounts: the same chart as 17/accounts.sql, codes in `code_store` keyed by company id,
-- companies in `account_account_res_company_rel`.
INSERT INTO account_account (id, name, code_store, account_type, currency_id, reconcile, deprecated) VALUES
  (10, '{"en_US": "STP Bank", "es_MX": "Bancos STP"}', '{"1": "102.01.01"}', 'asset_cash', NULL, false, false),
  (11, '{"en_US": "BBVA USD"}', '{"1": "102.01.02"}', 'asset_cash', 2, false, false),
  (12, '{"en_US": "Domestic customers", "es_MX": "Clientes nacionales"}', '{"1": "105.01.01"}', 'asset_receivable', NULL, true, false),
  (13, '{"en_US": "Domestic suppliers", "es_MX": "Proveedores nacionales"}', '{"1": "201.01.01"}', 'liability_payable', NULL, true, false),
  (14, '{"en_US": "Bank fees", "es_MX": "Comisiones bancarias"}', '{"1": "601.84.01"}', 'expense', NULL, false, false),
  (15, '{"en_US": "Conekta receivable", "es_MX": "Conekta por cobrar"}', '{"1": "105.02.01"}', 'asset_current', NULL, true, false),
  (16, '{"en_US": "Santander", "es_MX": "Santander"}', '{"1": "102.01.09"}', 'asset_cash', NULL, false, false),
  (20, '{"en_US": "Bank"}', '{"2": "102.01.01"}', 'asset_cash', NULL, false, false),
  (21, '{"en_US": "Account Receivable"}', '{"2": "121000"}', 'asset_receivable', NULL, true, false);
INSERT INTO account_account_res_company_rel (account_account_id, res_company_id) VALUES
  (10, 1), (11, 1), (12, 1), (13, 1), (14, 1), (15, 1), (16, 1), (20, 2), (21, 2);
