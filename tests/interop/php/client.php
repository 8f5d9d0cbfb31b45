<?php
// A legacy PHP consumer: SoapClient from the facade's WSDL, pages through every contact,
// upserts one, reads it back. Prints one JSON line. Usage: php client.php WSDL USER PASS SITE
[$script, $wsdl, $user, $pass, $site] = $argv;
$client = new SoapClient($wsdl, [
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'exceptions' => true,
    'soap_version' => SOAP_1_1,
]);
$ids = [];
$start = 0;
$calls = 0;
do {
    $r = $client->ContactList_Retrieve([
        'username' => $user, 'password' => $pass, 'siteId' => (int)$site,
        'lastUpdateDate' => '0001-01-01T00:00:00', 'recordStart' => $start, 'moreRecords' => true,
    ]);
    $records = isset($r->ContactList_RetrieveResult->ContactRecord)
        ? $r->ContactList_RetrieveResult->ContactRecord : [];
    foreach ($records as $rec) { $ids[] = $rec->entityId; }
    $start = $r->recordStart;
    $calls++;
} while ($r->moreRecords && $calls < 1000);

// minOccurs=1 value types must be sent: PHP enforces them on its side.
$record = [
    'entityId' => 0, 'externalId' => 'PHP-1', 'emailAddress' => 'php.consumer@example.com',
    'deleted' => false, 'firstName' => 'Pat', 'lastName' => 'Hp', 'password' => '',
    'dateOfBirth' => '0001-01-01T00:00:00', 'createDate' => '0001-01-01T00:00:00',
    'lastUpdateDate' => '0001-01-01T00:00:00', 'MasterOptIn' => true,
];
$client->ContactList_UpdateInsert([
    'username' => $user, 'password' => $pass, 'siteId' => (int)$site,
    'contactsList' => ['ContactRecord' => [$record]],
]);
$found = $client->Contact_RetrieveByEmailAddress([
    'username' => $user, 'password' => $pass, 'siteId' => (int)$site,
    'emailAddress' => 'php.consumer@example.com',
])->Contact_RetrieveByEmailAddressResult;
$fault = null;
try {
    $client->ContactList_Retrieve([
        'username' => $user, 'password' => 'wrong', 'siteId' => (int)$site,
        'lastUpdateDate' => '0001-01-01T00:00:00', 'recordStart' => 0, 'moreRecords' => true,
    ]);
} catch (SoapFault $e) {
    $fault = $e->getMessage();
}
echo json_encode([
    'count' => count($ids), 'unique' => count(array_unique($ids)), 'calls' => $calls,
    'upserted_external_id' => $found->externalId, 'upserted_entity_id' => $found->entityId,
    'fault' => $fault,
]), "\n";
