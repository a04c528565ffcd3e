import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { PersistenceModule } from '../persistence/persistence.module';
import { CreateKeyUseCase } from './create-key.usecase';
import { CreateProjectUseCase } from './create-project.usecase';
import { DeleteProjectUseCase } from './delete-project.usecase';
import { IdentityBootstrap } from './identity-bootstrap';
import { KeyPublisher } from './key-publisher';
import { KeyUsageInterceptor } from './key-usage.interceptor';
import { KeysController } from './keys.controller';
import { ProjectAccess } from './project-access';
import { ProjectsController } from './projects.controller';
import { ReadKeysUseCase } from './read-keys.usecase';
import { RevokeKeyUseCase } from './revoke-key.usecase';

/** Projects and their API keys: management API, publication to the apiKeys topic, boot. */
@Module({
  imports: [PersistenceModule],
  controllers: [ProjectsController, KeysController],
  providers: [
    ProjectAccess,
    KeyPublisher,
    CreateProjectUseCase,
    DeleteProjectUseCase,
    CreateKeyUseCase,
    ReadKeysUseCase,
    RevokeKeyUseCase,
    IdentityBootstrap,
    { provide: APP_INTERCEPTOR, useClass: KeyUsageInterceptor },
  ],
  exports: [ProjectAccess],
})
export class ProjectsModule {}
