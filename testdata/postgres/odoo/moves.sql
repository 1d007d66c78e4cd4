-- Journals, journal entries and their lines, the same for every Odoo version. Amounts are as the
-- ORM writes them into numeric columns (float text: 0.0, 12345.6), except where a script wrote
-- two decimals (5800.00). Each entry balances: sum(debit) = sum(credit).
INSERT INTO account_journal (id, name, code, type, company_id, currency_id, default_account_id, active, sequence) VALUES
  (5, '{"en_US": "STP Bank", "es_MX": "Bancos STP"}', 'BNK1', 'bank', 1, 33, 10, true, 10),
  (6, '{"en_US": "BBVA USD"}', 'BNK2', 'bank', 1, 2, 11, true, 11),
  (7, '{"en_US": "Santander", "es_MX": "Santander"}', 'BNK3', 'bank', 1, NULL, 16, true, 12),
  (8, '{"en_US": "Miscellaneous Operations", "es_MX": "Operaciones varias"}', 'MISC', 'general', 1, NULL, NULL, true, 9),
  (9, '{"en_US": "Bank"}', 'BNK1', 'bank', 2, NULL, 20, true, 10);

INSERT INTO account_move (id, name, ref, date, state, move_type, journal_id, company_id, currency_id, partner_id, payment_reference) VALUES
  -- A customer payment received by SPEI: bank line (debit) + receivable line (credit).
  (201, 'PBNK1/2024/00012', 'F-2024-0112', '2024-03-05', 'posted', 'entry', 5, 1, 33, 7, 'F-2024-0112'),
  -- A vendor payment: bank line (credit) + payable line (debit).
  (202, 'PBNK1/2024/00013', 'A-5521', '2024-03-07', 'posted', 'entry', 5, 1, 33, 9, 'A-5521'),
  -- A draft payment (no name yet) and a cancelled one: counted, not read.
  (203, '/', NULL, '2024-03-10', 'draft', 'entry', 5, 1, 33, 7, NULL),
  (204, 'PBNK1/2024/00014', 'A-5530', '2024-03-11', 'cancel', 'entry', 5, 1, 33, 9, NULL),
  -- A USD wire on the USD journal: amount_currency in USD, debit/credit in MXN.
  (205, 'BNK2/2024/00003', NULL, '2024-03-12', 'posted', 'entry', 6, 1, 2, 7, NULL),
  -- Conekta payouts, net of fees: bank line, clearing line, fee line.
  (206, 'BNK1/2024/00016', '0598792', '2024-03-15', 'posted', 'entry', 5, 1, 33, 8, NULL),
  (207, 'BNK1/2024/00017', '0598793', '2024-03-22', 'posted', 'entry', 5, 1, 33, 8, NULL),
  -- Outside the run's dates.
  (208, 'PBNK1/2024/00009', NULL, '2024-02-29', 'posted', 'entry', 5, 1, 33, 7, NULL),
  (209, 'PBNK1/2024/00021', NULL, '2024-04-01', 'posted', 'entry', 5, 1, 33, 7, NULL),
  (213, '/', NULL, '2024-04-03', 'draft', 'entry', 5, 1, 33, 7, NULL),
  -- Another bank (account and journal not mapped).
  (210, 'BNK3/2024/00004', NULL, '2024-03-13', 'posted', 'entry', 7, 1, 33, 7, NULL),
  -- A rounding entry on the mapped bank account, but in the miscellaneous journal.
  (211, 'MISC/2024/03/0001', 'Rounding', '2024-03-20', 'posted', 'entry', 8, 1, 33, NULL, NULL),
  -- The other company's bank, with the same account code and journal code.
  (212, 'BNK1/2024/00005', NULL, '2024-03-08', 'posted', 'entry', 9, 2, 2, 7, NULL);

INSERT INTO account_move_line (id, move_id, move_name, date, ref, parent_state, journal_id, company_id, company_currency_id, account_id, partner_id, currency_id, name, display_type, debit, credit, balance, amount_currency, amount_residual, amount_residual_currency, reconciled, matching_number, sequence) VALUES
  (101, 201, 'PBNK1/2024/00012', '2024-03-05', 'F-2024-0112', 'posted', 5, 1, 33, 10, 10, 33, 'SPEI MBAN01002403050073291391', 'product', 1235.04, 0.0, 1235.04, 1235.04, 0.0, 0.0, false, NULL, 10),
  (102, 201, 'PBNK1/2024/00012', '2024-03-05', 'F-2024-0112', 'posted', 5, 1, 33, 12, 7, 33, 'Customer Payment $ 1,235.04 - Abarrotes La Esperanza SA de CV - 03/05/2024', 'payment_term', 0.0, 1235.04, -1235.04, -1235.04, 0.0, 0.0, true, '1', 20),
  (103, 202, 'PBNK1/2024/00013', '2024-03-07', 'A-5521', 'posted', 5, 1, 33, 10, 9, 33, 'Pago factura A-5521, "papelería"', 'product', 0.00, 5800.00, -5800.00, -5800.00, 0.00, 0.00, false, NULL, 10),
  (104, 202, 'PBNK1/2024/00013', '2024-03-07', 'A-5521', 'posted', 5, 1, 33, 13, 9, 33, 'Vendor Payment $ 5,800.00 - Papelería del Centro - 03/07/2024', 'payment_term', 5800.00, 0.00, 5800.00, 5800.00, 0.00, 0.00, true, '2', 20),
  (105, 203, '/', '2024-03-10', NULL, 'draft', 5, 1, 33, 10, 7, 33, 'Draft payment', 'product', 300.0, 0.0, 300.0, 300.0, 300.0, 300.0, false, NULL, 10),
  (106, 203, '/', '2024-03-10', NULL, 'draft', 5, 1, 33, 12, 7, 33, 'Draft payment', 'payment_term', 0.0, 300.0, -300.0, -300.0, -300.0, -300.0, false, NULL, 20),
  (107, 204, 'PBNK1/2024/00014', '2024-03-11', 'A-5530', 'cancel', 5, 1, 33, 10, 9, 33, 'Pago factura A-5530', 'product', 0.0, 99.99, -99.99, -99.99, 0.0, 0.0, false, NULL, 10),
  (108, 204, 'PBNK1/2024/00014', '2024-03-11', 'A-5530', 'cancel', 5, 1, 33, 13, 9, 33, 'Pago factura A-5530', 'payment_term', 99.99, 0.0, 99.99, 99.99, 0.0, 0.0, false, NULL, 20),
  (109, 205, 'BNK2/2024/00003', '2024-03-12', NULL, 'posted', 6, 1, 33, 11, 7, 2, 'Wire transfer INV/2024/00098', 'product', 17034.5, 0.0, 17034.5, 1000.0, 0.0, 0.0, false, NULL, 10),
  (110, 205, 'BNK2/2024/00003', '2024-03-12', NULL, 'posted', 6, 1, 33, 12, 7, 2, 'INV/2024/00098', 'payment_term', 0.0, 17034.5, -17034.5, -1000.0, 0.0, 0.0, true, '3', 20),
  (111, 206, 'BNK1/2024/00016', '2024-03-15', '0598792', 'posted', 5, 1, 33, 10, 8, 33, 'Conekta 0598792', 'product', 4589.21, 0.0, 4589.21, 4589.21, 0.0, 0.0, false, NULL, 10),
  (112, 206, 'BNK1/2024/00016', '2024-03-15', '0598792', 'posted', 5, 1, 33, 15, 8, 33, 'Conekta payout 0598792', 'product', 0.0, 4800.0, -4800.0, -4800.0, 0.0, 0.0, true, '4', 20),
  (113, 206, 'BNK1/2024/00016', '2024-03-15', '0598792', 'posted', 5, 1, 33, 14, 8, 33, 'Comisión Conekta + IVA', 'product', 210.79, 0.0, 210.79, 210.79, 0.0, 0.0, false, NULL, 30),
  (114, 207, 'BNK1/2024/00017', '2024-03-22', '0598793', 'posted', 5, 1, 33, 10, 8, 33, '0598793 Conekta', 'product', 12345.6, 0.0, 12345.6, 12345.6, 0.0, 0.0, false, NULL, 10),
  (115, 207, 'BNK1/2024/00017', '2024-03-22', '0598793', 'posted', 5, 1, 33, 15, 8, 33, 'Conekta payout 0598793', 'product', 0.0, 12345.6, -12345.6, -12345.6, 0.0, 0.0, true, '5', 20),
  (116, 208, 'PBNK1/2024/00009', '2024-02-29', NULL, 'posted', 5, 1, 33, 10, 7, 33, 'SPEI MBAN01002402290073291101', 'product', 500.0, 0.0, 500.0, 500.0, 0.0, 0.0, false, NULL, 10),
  (117, 208, 'PBNK1/2024/00009', '2024-02-29', NULL, 'posted', 5, 1, 33, 12, 7, 33, 'Customer Payment', 'payment_term', 0.0, 500.0, -500.0, -500.0, 0.0, 0.0, true, '6', 20),
  (118, 209, 'PBNK1/2024/00021', '2024-04-01', NULL, 'posted', 5, 1, 33, 10, 7, 33, 'SPEI MBAN01002404010073291555', 'product', 750.0, 0.0, 750.0, 750.0, 0.0, 0.0, false, NULL, 10),
  (119, 209, 'PBNK1/2024/00021', '2024-04-01', NULL, 'posted', 5, 1, 33, 12, 7, 33, 'Customer Payment', 'payment_term', 0.0, 750.0, -750.0, -750.0, 0.0, 0.0, true, '7', 20),
  (120, 210, 'BNK3/2024/00004', '2024-03-13', NULL, 'posted', 7, 1, 33, 16, 7, 33, 'Depósito Santander', 'product', 1000.0, 0.0, 1000.0, 1000.0, 0.0, 0.0, false, NULL, 10),
  (121, 210, 'BNK3/2024/00004', '2024-03-13', NULL, 'posted', 7, 1, 33, 12, 7, 33, 'Customer Payment', 'payment_term', 0.0, 1000.0, -1000.0, -1000.0, 0.0, 0.0, true, '8', 20),
  (122, 211, 'MISC/2024/03/0001', '2024-03-20', 'Rounding', 'posted', 8, 1, 33, 10, NULL, 33, 'Rounding difference', 'product', 0.01, 0.0, 0.01, 0.01, 0.0, 0.0, false, NULL, 10),
  (123, 211, 'MISC/2024/03/0001', '2024-03-20', 'Rounding', 'posted', 8, 1, 33, 14, NULL, 33, 'Rounding difference', 'product', 0.0, 0.01, -0.01, -0.01, 0.0, 0.0, false, NULL, 20),
  (124, 212, 'BNK1/2024/00005', '2024-03-08', NULL, 'posted', 9, 2, 2, 20, 7, 2, 'Incoming wire', 'product', 99.0, 0.0, 99.0, 99.0, 0.0, 0.0, false, NULL, 10),
  (125, 212, 'BNK1/2024/00005', '2024-03-08', NULL, 'posted', 9, 2, 2, 21, 7, 2, 'Customer Payment', 'payment_term', 0.0, 99.0, -99.0, -99.0, 0.0, 0.0, true, '9', 20),
  (126, 213, '/', '2024-04-03', NULL, 'draft', 5, 1, 33, 10, 7, 33, 'Draft payment', 'product', 10.0, 0.0, 10.0, 10.0, 10.0, 10.0, false, NULL, 10),
  (127, 213, '/', '2024-04-03', NULL, 'draft', 5, 1, 33, 12, 7, 33, 'Draft payment', 'payment_term', 0.0, 10.0, -10.0, -10.0, -10.0, -10.0, false, NULL, 20);
