// Original file: proto/bulwark/v1/blockstore.proto


export interface DatastoreInfo {
  'datastoreId'?: (string);
  'formatVersion'?: (number);
  'chunkSizeBytes'?: (number);
  'site'?: (string);
  'keyFingerprint'?: (string);
}

export interface DatastoreInfo__Output {
  'datastoreId': (string);
  'formatVersion': (number);
  'chunkSizeBytes': (number);
  'site': (string);
  'keyFingerprint': (string);
}
