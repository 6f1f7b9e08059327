// Original file: proto/bulwark/v1/controller.proto

import type { Worker as _bulwark_v1_Worker, Worker__Output as _bulwark_v1_Worker__Output } from '../../bulwark/v1/Worker.js';

export interface ListWorkersResponse {
  'workers'?: (_bulwark_v1_Worker)[];
}

export interface ListWorkersResponse__Output {
  'workers': (_bulwark_v1_Worker__Output)[];
}
