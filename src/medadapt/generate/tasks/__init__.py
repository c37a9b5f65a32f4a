"""One module per task; :data:`TASKS` maps a recipe's ``task:`` to its class."""

from medadapt.generate.tasks.conversation import ConversationRunner
from medadapt.generate.tasks.expand import ExpandRunner
from medadapt.generate.tasks.judge import JudgeRunner
from medadapt.generate.tasks.qa_generate import QAGenerateRunner
from medadapt.generate.tasks.translate import TranslateRunner

TASKS = {"translate": TranslateRunner, "expand": ExpandRunner, "qa_generate": QAGenerateRunner, "judge": JudgeRunner,
         "conversation": ConversationRunner}
