"""Yanxiu (研修) shared code: event contracts (`yanxiu.contracts`), service machinery
(`yanxiu.kit`) and the local development stack (`yanxiu.devstack`)."""
