// A legacy node consumer: the `soap` package from the facade's WSDL, pages through every
// contact, upserts one (dates as ISO strings: JS Dates serialize as empty elements), reads
// it back. Prints one JSON line. Usage: node client.js WSDL USER PASS SITE
'use strict';
const soap = require('soap');

async function main() {
  const [wsdl, username, password, site] = process.argv.slice(2);
  const siteId = Number(site);
  const client = await soap.createClientAsync(wsdl);
  const ids = [];
  let recordStart = 0;
  let calls = 0;
  let more = true;
  while (more && calls < 1000) {
    const [r] = await client.ContactList_RetrieveAsync({
      username, password, siteId, lastUpdateDate: '0001-01-01T00:00:00', recordStart,
      moreRecords: true,
    });
    let records = (r.ContactList_RetrieveResult || {}).ContactRecord || [];
    if (!Array.isArray(records)) records = [records];
    for (const rec of records) ids.push(Number(rec.entityId));
    recordStart = Number(r.recordStart);
    more = r.moreRecords === true || r.moreRecords === 'true';
    calls += 1;
  }
  const record = {
    entityId: 0, externalId: 'NODE-1', emailAddress: 'node.consumer@example.com',
    deleted: false, firstName: 'No', lastName: 'De', password: '',
    dateOfBirth: '0001-01-01T00:00:00', createDate: '0001-01-01T00:00:00',
    lastUpdateDate: '0001-01-01T00:00:00', MasterOptIn: false,
  };
  await client.ContactList_UpdateInsertAsync({
    username, password, siteId, contactsList: { ContactRecord: [record] },
  });
  const [found] = await client.Contact_RetrieveByEmailAddressAsync({
    username, password, siteId, emailAddress: 'node.consumer@example.com',
  });
  let fault = null;
  try {
    await client.ContactList_RetrieveAsync({
      username, password: 'wrong', siteId, lastUpdateDate: '0001-01-01T00:00:00',
      recordStart: 0, moreRecords: true,
    });
  } catch (err) {
    fault = err.root && err.root.Envelope && err.root.Envelope.Body.Fault.faultstring;
  }
  const result = found.Contact_RetrieveByEmailAddressResult;
  console.log(JSON.stringify({
    count: ids.length, unique: new Set(ids).size, calls,
    upserted_external_id: result.externalId, upserted_entity_id: Number(result.entityId), fault,
  }));
}

main().catch((err) => { console.error(err.stack || String(err)); process.exit(1); });
