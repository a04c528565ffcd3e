import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AliasMoveRepository } from './alias-move.repository';
import { AliasMoveDocument, AliasMoveSchema } from './alias-move.schema';
import { PromptSummaryRepository } from './prompt-summary.repository';
import {
  PromptAliasDocument,
  PromptAliasSchema,
  PromptDocument,
  PromptSchema,
} from './prompt-summary.schema';
import { PromptVersionRepository } from './prompt-version.repository';
import { PromptVersionDocument, PromptVersionSchema } from './prompt-version.schema';
import { PromotionRepository } from './promotion.repository';
import { PromotionDocument, PromotionSchema } from './promotion.schema';

/** The registry's documents and the repositories that own every query on them. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: PromptVersionDocument.name, schema: PromptVersionSchema },
      { name: AliasMoveDocument.name, schema: AliasMoveSchema },
      { name: PromptDocument.name, schema: PromptSchema },
      { name: PromptAliasDocument.name, schema: PromptAliasSchema },
      { name: PromotionDocument.name, schema: PromotionSchema },
    ]),
  ],
  providers: [PromptVersionRepository, AliasMoveRepository, PromptSummaryRepository, PromotionRepository],
  exports: [PromptVersionRepository, AliasMoveRepository, PromptSummaryRepository, PromotionRepository],
})
export class PersistenceModule {}
