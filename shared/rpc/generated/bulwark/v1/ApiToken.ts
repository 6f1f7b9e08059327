// Original file: proto/bulwark/v1/controller.proto


export interface ApiToken {
  'id'?: (string);
  'name'?: (string);
  'role'?: (string);
  'createdAt'?: (string);
  'createdBy'?: (string);
  'expiresAt'?: (string);
  'revokedAt'?: (string);
  'lastUsedAt'?: (string);
  'state'?: (string);
}

export interface ApiToken__Output {
  'id': (string);
  'name': (string);
  'role': (string);
  'createdAt': (string);
  'createdBy': (string);
  'expiresAt': (string);
  'revokedAt': (string);
  'lastUsedAt': (string);
  'state': (string);
}
