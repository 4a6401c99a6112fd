//! Responses recorded in the reference (`../shared/reference/lrs-arm-api.md`), verbatim: real
//! traffic (REC-COMPLETE, REC-CANCEL) and the API specification's examples (the response body of
//! each example). `http` blocks keep their header lines, a blank line, then the body.

#![allow(dead_code)]

/// §1.3, REC-COMPLETE: an ARM 404 body.
pub const NOT_FOUND_404: &str = r#"{
  "error": {
    "code": "ResourceNotFound",
    "message": "The Resource 'Microsoft.Sql/managedInstances/ps6172' under resource group 'ps3312' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
  }
}"#;

/// §1.4, REC-COMPLETE: the start PUT's 202 headers and body.
pub const START_202: &str = r#"Location: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseRestoreOperationResults/68971faf-fb51-4df5-bf44-71312318deba?api-version=2019-06-01-preview
Retry-After: 15
Azure-AsyncOperation: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseRestoreAzureAsyncOperation/68971faf-fb51-4df5-bf44-71312318deba?api-version=2019-06-01-preview
x-ms-ratelimit-remaining-subscription-writes: 1198
Content-Type: application/json; charset=utf-8

{
  "operation": "CreateExternalManagedBackupRestoreV2Request",
  "startTime": "2020-08-26T12:06:53.27Z"
}"#;

/// §1.4: the start operation while running.
pub const START_OP_IN_PROGRESS: &str = r#"{
  "name": "68971faf-fb51-4df5-bf44-71312318deba",
  "status": "InProgress",
  "startTime": "2020-08-26T12:06:53.27Z"
}"#;

/// §1.4: the start operation at the end.
pub const START_OP_SUCCEEDED: &str = r#"{
  "name": "68971faf-fb51-4df5-bf44-71312318deba",
  "status": "Succeeded",
  "startTime": "2020-08-26T12:06:53.27Z"
}"#;

/// §1.5, SPEC-2023 ManagedDatabaseGet.json response body.
pub const DB_GET: &str = r#"{
  "id": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/testrg/providers/Microsoft.Sql/managedInstances/testcl/databases/testdb1",
  "location": "southeastasia",
  "name": "testdb1",
  "properties": {
    "collation": "SQL_Latin1_General_CP1_CI_AS",
    "creationDate": "2017-08-04T15:00:17.73Z",
    "defaultSecondaryLocation": "North Europe",
    "status": "Online"
  },
  "type": "Microsoft.Sql/managedInstances/databases"
}"#;

/// §2.4, SPEC-P2411 ManagedDatabaseRestoreDetails.json response body.
pub const RESTORE_DETAILS_EXTENDED: &str = r#"{
  "properties": {
    "type": "LRSRestore",
    "status": "Restoring",
    "lastUploadedFileName": "RestoreDetailsFullBlownExampleLog11.bak",
    "lastUploadedFileTime": "2022-03-01T07:54:21Z",
    "lastRestoredFileName": "RestoreDetailsFullBlownExampleLog9_1.bak",
    "lastRestoredFileTime": "2022-05-09T12:27:20.4936305Z",
    "percentCompleted": 53,
    "currentRestoredSizeMB": 25,
    "currentRestorePlanSizeMB": 47,
    "currentBackupType": "Log",
    "currentRestoringFileName": "RestoreDetailsFullBlownExampleLog10.bak",
    "numberOfFilesDetected": 25,
    "numberOfFilesQueued": 1,
    "numberOfFilesSkipped": 8,
    "numberOfFilesRestoring": 1,
    "numberOfFilesRestored": 14,
    "numberOfFilesUnrestorable": 1,
    "fullBackupSets": [
      {
        "status": "Skipped",
        "firstStripeName": "RestoreDetailsFullBlownExampleFull2.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 2
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleFull3_1.bak",
        "numberOfStripes": 3,
        "backupSizeMB": 3,
        "restoreStartedTimestampUtc": "2022-05-09T12:15:40.3143263Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:18:41.3785089Z"
      }
    ],
    "diffBackupSets": [
      {
        "status": "Skipped",
        "firstStripeName": "RestoreDetailsFullBlownExampleDiff2.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 0
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleDiff3_1.bak",
        "numberOfStripes": 3,
        "backupSizeMB": 1,
        "restoreStartedTimestampUtc": "2022-05-09T12:19:40.5455092Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:20:21.3667454Z"
      }
    ],
    "logBackupSets": [
      {
        "status": "Skipped",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog2.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 0
      },
      {
        "status": "Skipped",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog3.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 8
      },
      {
        "status": "Skipped",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog4.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 11
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog5.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 7,
        "restoreStartedTimestampUtc": "2022-05-09T12:21:01.7717453Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:21:54.7557851Z"
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog6.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 3,
        "restoreStartedTimestampUtc": "2022-05-09T12:22:41.8784062Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:23:03.709407Z"
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog7.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 4,
        "restoreStartedTimestampUtc": "2022-05-09T12:23:36.6264066Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:23:52.9274047Z"
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog8.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 3,
        "restoreStartedTimestampUtc": "2022-05-09T12:24:25.899407Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:24:37.9954063Z"
      },
      {
        "status": "Restored",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog9_1.bak",
        "numberOfStripes": 4,
        "backupSizeMB": 4,
        "restoreStartedTimestampUtc": "2022-05-09T12:25:10.8804065Z",
        "restoreFinishedTimestampUtc": "2022-05-09T12:25:27.808409Z"
      },
      {
        "status": "Restoring",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog10.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 15,
        "restoreStartedTimestampUtc": "2022-05-09T12:26:00.7813103Z"
      },
      {
        "status": "Queued",
        "firstStripeName": "RestoreDetailsFullBlownExampleLog11.bak",
        "numberOfStripes": 1,
        "backupSizeMB": 7
      }
    ],
    "unrestorableFiles": [
      {
        "name": "ImageFile.JPG"
      }
    ]
  },
  "id": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/Default-SQL-SouthEastAsia/providers/Microsoft.Sql/managedInstances/managedInstance/databases/testdb/restoreDetails/current",
  "name": "current",
  "type": "Microsoft.Sql/managedInstances/databases/restoreDetails"
}"#;

/// §2.4, SPEC-2023 ManagedDatabaseRestoreDetails.json response body.
pub const RESTORE_DETAILS_BASIC: &str = r#"{
  "properties": {
    "status": "Restoring",
    "currentRestoringFileName": "full_0",
    "percentCompleted": 0.0,
    "unrestorableFiles": [],
    "numberOfFilesDetected": 26,
    "lastUploadedFileName": "log2_3",
    "lastUploadedFileTime": "2018-06-15T11:38:33Z"
  },
  "id": "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/Default-SQL-SouthEastAsia/providers/Microsoft.Sql/managedInstances/managedInstance/databases/testdb/restoreDetails/current",
  "name": "current",
  "type": "Microsoft.Sql/managedInstances/databases/restoreDetails"
}"#;

/// §2.4, REC-COMPLETE t+6 s.
pub const OBSERVED_INITIALIZING: &str = r#"{
  "properties": {
    "status": "Initializing",
    "numberOfFilesDetected": 0
  },
  "id": "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/resourceGroups/ps3312/providers/Microsoft.Sql/managedInstances/ps6172/databases/ps6598/restoreDetails/Default",
  "name": "Default",
  "type": "Microsoft.Sql/managedInstances/databases/restoreDetails"
}"#;

/// §2.4, REC-COMPLETE t+36 s.
pub const OBSERVED_RESTORING: &str = r#"{
  "properties": {
    "status": "Restoring",
    "currentRestoringFileName": "full.bak",
    "unrestorableFiles": [],
    "numberOfFilesDetected": 2,
    "lastUploadedFileName": "log1.bak",
    "lastUploadedFileTime": "2020-05-08T17:29:46Z"
  },
  "id": "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/resourceGroups/ps3312/providers/Microsoft.Sql/managedInstances/ps6172/databases/ps6598/restoreDetails/Default",
  "name": "Default",
  "type": "Microsoft.Sql/managedInstances/databases/restoreDetails"
}"#;

/// §2.4, REC-COMPLETE after cutover.
pub const OBSERVED_COMPLETED: &str = r#"{
  "properties": {
    "status": "Completed",
    "currentRestoringFileName": "log1.bak",
    "lastRestoredFileName": "log1.bak",
    "unrestorableFiles": [],
    "numberOfFilesDetected": 2,
    "lastUploadedFileName": "log1.bak",
    "lastUploadedFileTime": "2020-05-08T17:29:46Z"
  },
  "id": "/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/resourceGroups/ps3312/providers/Microsoft.Sql/managedInstances/ps6172/databases/ps6598/restoreDetails/Default",
  "name": "Default",
  "type": "Microsoft.Sql/managedInstances/databases/restoreDetails"
}"#;

/// §3.1, REC-COMPLETE: the completeRestore 202 headers and body.
pub const COMPLETE_202: &str = r#"Location: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseCompleteRestoreOperationResults/822590a0-6ab7-4fa3-ae14-25152c837732?api-version=2019-06-01-preview
Retry-After: 15
Azure-AsyncOperation: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseCompleteRestoreAzureAsyncOperation/822590a0-6ab7-4fa3-ae14-25152c837732?api-version=2019-06-01-preview

{
  "operation": "ManagedDatabaseCompleteExternalRestore",
  "startTime": "2020-08-26T12:07:30.1Z"
}"#;

/// §3.2, REC-CANCEL: the DELETE 202 headers and body.
pub const DELETE_202: &str = r#"Location: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseOperationResults/a30b6ca9-8cf0-4428-af56-d84a4e4eaf3f?api-version=2019-06-01-preview
Retry-After: 15
Azure-AsyncOperation: https://management.azure.com/subscriptions/a8c9a924-06c0-4bde-9788-e7b1370969e1/providers/Microsoft.Sql/locations/westcentralus/managedDatabaseAzureAsyncOperation/a30b6ca9-8cf0-4428-af56-d84a4e4eaf3f?api-version=2019-06-01-preview
x-ms-request-id: a30b6ca9-8cf0-4428-af56-d84a4e4eaf3f
x-ms-ratelimit-remaining-subscription-deletes: 14999

{
  "operation": "DropManagedDatabase",
  "startTime": "2020-09-03T14:13:50.873Z"
}"#;

/// §5.1, GetSubscriptions.json response body.
pub const SUBSCRIPTIONS: &str = r#"{
  "value": [
    {
      "id": "/subscriptions/291bba3f-e0a5-47bc-a099-3bdcb2a50a05",
      "subscriptionId": "291bba3f-e0a5-47bc-a099-3bdcb2a50a05",
      "tenantId": "31c75423-32d6-4322-88b7-c478bdde4858",
      "displayName": "Example Subscription",
      "state": "Enabled",
      "subscriptionPolicies": {
        "locationPlacementId": "Internal_2014-09-01",
        "quotaId": "Internal_2014-09-01",
        "spendingLimit": "Off"
      },
      "authorizationSource": "RoleBased",
      "managedByTenants": [
        {
          "tenantId": "8f70baf1-1f6e-46a2-a1ff-238dac1ebfb7"
        }
      ],
      "tags": {
        "tagKey1": "tagValue1",
        "tagKey2": "tagValue2"
      }
    },
    {
      "id": "/subscriptions/72ac930a-f34e-42d8-b06d-dc2a9e12ed71",
      "subscriptionId": "72ac930a-f34e-42d8-b06d-dc2a9e12ed71",
      "tenantId": "2a0ff0de-96b2-4859-bb7c-a430d07a3e0c",
      "displayName": "Example Subscription2",
      "state": "Enabled",
      "subscriptionPolicies": {
        "locationPlacementId": "Internal_2014-09-01",
        "quotaId": "Internal_2014-09-01",
        "spendingLimit": "Off"
      },
      "authorizationSource": "RoleBased",
      "managedByTenants": [
        {
          "tenantId": "8f70baf1-1f6e-46a2-a1ff-238dac1ebfb7"
        },
        {
          "tenantId": "f7fb6af2-321d-47c8-9c0f-b0239eaad39a"
        }
      ],
      "tags": {
        "tagKey1": "tagValue1",
        "tagKey2": "tagValue2"
      }
    }
  ],
  "nextLink": "..."
}"#;

/// §5.3, SPEC-2023 ManagedInstanceListByResourceGroup.json response body.
pub const MANAGED_INSTANCES: &str = r#"{
  "value": [
    {
      "location": "japaneast",
      "id": "/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances/testinstance1",
      "name": "testinstance1",
      "type": "Microsoft.Sql/managedInstances",
      "sku": {
        "name": "GP_Gen4",
        "tier": "GeneralPurpose",
        "capacity": 8,
        "family": "Gen4"
      },
      "properties": {
        "fullyQualifiedDomainName": "testinstance1.1b4e2caff2530.database.windows.net",
        "administratorLogin": "dummylogin",
        "subnetId": "/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/subnet1",
        "state": "Ready",
        "provisioningState": "Succeeded",
        "vCores": 8,
        "storageSizeInGB": 1024,
        "licenseType": "LicenseIncluded",
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "publicDataEndpointEnabled": false,
        "proxyOverride": "Default",
        "minimalTlsVersion": "1.2",
        "dnsZone": "1b4e2caff2530",
        "maintenanceConfigurationId": "/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_JapanEast_MI_1",
        "currentBackupStorageRedundancy": "Geo",
        "requestedBackupStorageRedundancy": "Geo"
      }
    },
    {
      "location": "japaneast",
      "id": "/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances/testinstance2",
      "name": "testinstance2",
      "type": "Microsoft.Sql/managedInstances",
      "sku": {
        "name": "BC_Gen5",
        "tier": "BusinessCritical",
        "capacity": 16,
        "family": "Gen4"
      },
      "properties": {
        "fullyQualifiedDomainName": "testinstance2.2c3d1bdae3412.database.windows.net",
        "administratorLogin": "dummylogin",
        "subnetId": "/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet2/subnets/subnet2",
        "state": "Ready",
        "provisioningState": "Succeeded",
        "vCores": 16,
        "storageSizeInGB": 1024,
        "licenseType": "Full",
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "publicDataEndpointEnabled": false,
        "proxyOverride": "Default",
        "minimalTlsVersion": "1.2",
        "dnsZone": "2c3d1bdae3412",
        "maintenanceConfigurationId": "/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_JapanEast_MI_1",
        "currentBackupStorageRedundancy": "Geo",
        "requestedBackupStorageRedundancy": "Geo"
      }
    }
  ]
}"#;

/// §5.4, StorageAccountListKeys.json response body.
pub const LIST_KEYS: &str = r#"{
  "keys": [
    {
      "keyName": "key1",
      "permissions": "Full",
      "value": "<value>"
    },
    {
      "keyName": "key2",
      "permissions": "Full",
      "value": "<value>"
    }
  ]
}"#;

/// §5.4, StorageAccountListServiceSAS.json response body.
pub const LIST_SERVICE_SAS: &str = r#"{
  "serviceSasToken": "sv=2015-04-05&sr=c&se=2017-05-24T11%3A32%3A48Z&sp=l&sig=PoF8yBUGixsjzwroLmw7vG3VbGz4KB2woZC2D4C2oio%3D"
}"#;

/// The header lines and the body of a recorded `http` block.
pub fn split_http(block: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = block.split_once("\n\n").unwrap_or((block, ""));
    let headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (headers, body.trim().to_string())
}
