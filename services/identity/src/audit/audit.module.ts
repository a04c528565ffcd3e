import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { AuditConsumer } from './audit.consumer';
import { AuditController } from './audit.controller';
import { ListAuditUseCase } from './list-audit.usecase';
import { StoreAuditRecordsUseCase } from './store-audit-records.usecase';

/** The audit store: consumes every service's audit events and serves GET /v1/audit. */
@Module({
  imports: [PersistenceModule],
  controllers: [AuditController, AuditConsumer],
  providers: [StoreAuditRecordsUseCase, ListAuditUseCase],
})
export class AuditModule {}
