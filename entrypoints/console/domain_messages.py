"""What the domain says (written in English, for an API caller, in churn/ and the adapters), as a
reader of the console reads it: in Portuguese for pt-BR, and without API advice ("POST /use-model")
in both languages.

A catalogue of sentence patterns, each a regular expression over the English message with named
fields and a Portuguese sentence using them. It works on the text, not on the exception class,
because the same sentences also reach the pages as stored text (a job's error, the promotion's
reason, a refused outcome row). A field named `t_…` is itself translated (a sub-sentence such as
a hyperparameter's allowed range). A message no pattern knows is shown as it is: English, never
blank. tests/api/test_console_messages.py raises the real errors and checks each pattern still
matches them, so a reworded domain message shows up as a failing test, not as a silent fallback."""

from __future__ import annotations

import re
from typing import Callable

Q = r"(?P<{}>'[^']*'|\"[^\"]*\")"  # a Python repr of a name, as the domain quotes it


def _q(name: str) -> str:
    return Q.format(name)


# (English pattern, Portuguese). Order matters only where two patterns could match the same text.
PT_BR_SENTENCES: list[tuple[str, str]] = [
    # --- uploading a data set
    (r"data set " + _q("name") + r" already exists; choose another name(?: or remove it first)?",
     "o conjunto de dados {name} já existe; escolha outro nome ou remova-o antes"),
    (r"invalid data set name " + _q("name") + r": 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit",
     "nome de conjunto de dados inválido {name}: de 1 a 64 caracteres entre a-z, 0-9, '_' ou '-', começando por letra ou dígito"),
    (r"the file is larger than the (?P<mb>[\d.]+) MB limit \(CHURN_MAX_UPLOAD_MB\)",
     "o arquivo passa do limite de {mb} MB (CHURN_MAX_UPLOAD_MB)"),
    (r"the file is empty; send a CSV with a header row and data rows",
     "o arquivo está vazio; envie um CSV com uma linha de cabeçalho e linhas de dados"),
    (r"the file has a header but no data rows", "o arquivo tem cabeçalho mas nenhuma linha de dados"),
    (r"could not find the separator: the header row is a single column with ',', ';', tab and '\|'; "
     r"the header must name at least two columns, or set delimiter",
     "não foi possível achar o separador: o cabeçalho fica com uma só coluna com ',', ';', tab e '|'; "
     "o cabeçalho precisa nomear ao menos duas colunas"),
    (r"the header row must name at least two columns; check the separator or set delimiter",
     "o cabeçalho precisa nomear ao menos duas colunas; confira o separador"),
    (r"column (?P<n>\d+) of the header has no name; name it or remove the column",
     "a coluna {n} do cabeçalho não tem nome; dê um nome a ela ou remova-a"),
    (r"duplicate column names in the header: (?P<names>.+); rename them",
     "nomes de coluna repetidos no cabeçalho: {names}; renomeie-os"),
    (r"record (?P<record>\d+) \(starting on line (?P<line>\d+)\) has (?P<fields>\d+) fields; the header has (?P<width>\d+)\. "
     r"Quote fields that contain the separator, or set delimiter",
     "o registro {record} (a partir da linha {line}) tem {fields} campos; o cabeçalho tem {width}. "
     "Ponha entre aspas os campos que contêm o separador"),
    (r"record (?P<record>\d+) \(starting on line (?P<line>\d+)\) has a quote that is never closed; close it or remove it",
     "o registro {record} (a partir da linha {line}) abre aspas que nunca fecham; feche-as ou remova-as"),
    (r"record (?P<record>\d+) \(starting on line (?P<line>\d+)\) has (?P<fields>\d+) fields?; the header has (?P<width>\d+)\. "
     r"Fill in the missing fields \(empty ones too: one separator each\), or quote fields that contain a line break",
     "o registro {record} (a partir da linha {line}) tem {fields} campo(s); o cabeçalho tem {width}. "
     "Preencha os campos que faltam (os vazios também: um separador cada) ou ponha entre aspas os campos com quebra de linha"),
    (r"the file could not be read as CSV \((?P<reason>.+)\); check the separator and the quotes",
     "o arquivo não pôde ser lido como CSV ({reason}); confira o separador e as aspas"),
    (r"the file could not be read as CSV: (?P<reason>.+)", "o arquivo não pôde ser lido como CSV: {reason}"),
    (r"the header and the records disagree on the number of columns; check the separator",
     "o cabeçalho e os registros não concordam no número de colunas; confira o separador"),
    (r"column (?P<n>\d+) has values but no name in the header; name it",
     "a coluna {n} tem valores mas não tem nome no cabeçalho; dê um nome a ela"),
    (r"the file contains binary data \(NUL bytes\): send a CSV or TSV text file; "
     r"if it is UTF-16 without a byte-order mark, set encoding=utf-16-le",
     "o arquivo contém dados binários (bytes NUL): envie um arquivo de texto CSV ou TSV"),
    (r"the file is not (?P<encoding>\S+) text \(a byte at offset (?P<offset>\d+) of a block cannot be read\); set encoding",
     "o arquivo não é texto {encoding} (um byte na posição {offset} não pode ser lido); informe a codificação"),
    (r"too many columns \((?P<n>\d+)\); the limit is (?P<limit>\d+)", "colunas demais ({n}); o limite é {limit}"),
    (r"too many rows \((?P<n>\d+)\); the limit is (?P<limit>\d+)", "linhas demais ({n}); o limite é {limit}"),
    (r"target column " + _q("name") + r" is not in the file; columns: (?P<columns>.+)",
     "a coluna alvo {name} não está no arquivo; colunas: {columns}"),
    (r"id column " + _q("name") + r" is not in the file; columns: (?P<columns>.+)",
     "a coluna de id {name} não está no arquivo; colunas: {columns}"),
    (r"the id column cannot be the target", "a coluna de id não pode ser o alvo"),
    (r"the target " + _q("name") + r" is blank on (?P<n>\d+) row\(s\)(?P<where>.*?); fill it in or drop those rows",
     "o alvo {name} está vazio em {n} linha(s){where}; preencha ou remova essas linhas"),
    (r"the target " + _q("name") + r" must have exactly two values \(churned or not\); it has (?P<n>\d+)",
     "o alvo {name} precisa ter exatamente dois valores (saiu ou não); ele tem {n}"),
    (r"the target " + _q("name") + r" has the values " + _q("a") + r" and " + _q("b") + r", and (?P<neither>.+?) is a known churn word; "
     r"set positive_label to the value that means the customer churned",
     "o alvo {name} tem os valores {a} e {b}, e nenhum é uma palavra conhecida de churn; "
     "informe positive_label com o valor que significa que o cliente saiu"),
    (r"the target " + _q("name") + r" has only (?P<n>\d+) row\(s\) of " + _q("value") + r"; each value needs at least (?P<min>\d+) "
     r"for a training set and a hold-out set",
     "o alvo {name} tem só {n} linha(s) com {value}; cada valor precisa de ao menos {min} para treino e hold-out"),
    (r"column (?P<names>.+) is blank in every row; remove it from the file, or declare it with column_types \{.*\} "
     r"to upload the file unchanged \(it will be left out\)",
     "a coluna {names} está vazia em todas as linhas; remova-a do arquivo (ou, pela API, declare-a ignorada em column_types)"),
    (r"columns (?P<names>.+) are blank in every row; remove them from the file, or declare them with column_types \{.*\} "
     r"to upload the file unchanged \(they will be left out\)",
     "as colunas {names} estão vazias em todas as linhas; remova-as do arquivo (ou, pela API, declare-as ignoradas em column_types)"),
    (r"column " + _q("name") + r" is blank in every row and cannot be a feature; drop it or fill it in",
     "a coluna {name} está vazia em todas as linhas e não pode ser variável; remova-a ou preencha-a"),
    (r"no feature column is left besides the target and the id; left out: (?P<left>.+); set column_types to keep one",
     "não sobra nenhuma variável além do alvo e do id; deixadas de fora: {left}; informe column_types para manter uma"),
    # --- the profile's warnings (preview and data set pages)
    (r"blank in every row: left out", "vazia em todas as linhas: deixada de fora"),
    (r"the same value in every row: left out", "o mesmo valor em todas as linhas: deixada de fora"),
    (r"(?P<t_why>a row number|a different whole number in every row|a different value in every row), "
     r"like an identifier: left out \(set column_types to use it\)",
     "{t_why}, como um identificador: deixada de fora (informe column_types para usá-la)"),
    (r"a row number", "um número de linha"),
    (r"a different whole number in every row", "um número inteiro diferente em cada linha"),
    (r"a different value in every row", "um valor diferente em cada linha"),
    (r"alone it separates the target almost perfectly \((?P<separation>[\d.]+)\): likely a leak \(known only after "
     r"the customer left\?\); exclude it on /train unless it is known before",
     "sozinha ela separa o alvo quase perfeitamente ({separation}): provável vazamento (só se sabe depois que o cliente saiu?); "
     "deixe-a de fora no treino, a menos que seja conhecida antes"),
    (r"(?P<n>\d+) categories: the (?P<kept>\d+) most frequent keep their own column, the rest share one",
     "{n} categorias: as {kept} mais frequentes têm coluna própria, as demais dividem uma"),
    (r"every day is 12 or less, so the dates read day-first and month-first; read day-first \(dd/mm\)",
     "todo dia é 12 ou menos, então as datas servem como dia/mês e mês/dia; lidas como dia/mês (dd/mm)"),
    (r"its cells read as numbers both as (?P<a>\S+) and as (?P<b>\S+); read as (?P<chosen>\S+) \(set decimal to change\)",
     "as células servem como números tanto em {a} quanto em {b}; lidas como {chosen}"),
    # --- training
    (r"the hold-out \((?P<pct>\d+)% of (?P<rows>\d+) rows\) would hold (?P<churners>\d+) churners and (?P<others>\d+) other customers; "
     r"at least (?P<min>\d+) of each are needed to measure the model: upload at least (?P<per_class>\d+) "
     r"customers of each class \((?P<t_rate>.+)\)",
     "o hold-out ({pct}% de {rows} linhas) teria {churners} clientes que saíram e {others} outros; são precisos ao menos "
     "{min} de cada para medir o modelo: envie ao menos {per_class} clientes de cada classe ({t_rate})"),
    (r"at least (?P<n>\d+) rows at this data set's class balance", "ao menos {n} linhas na proporção de classes deste conjunto"),
    (r"rows of both classes", "linhas das duas classes"),
    (r"unknown model type " + _q("name") + r"; valid types: (?P<valid>.+)", "tipo de modelo desconhecido {name}; tipos válidos: {valid}"),
    (r"unknown hyperparameter\(s\) for (?P<type>\S+): (?P<unknown>.+); allowed: (?P<allowed>.+)",
     "hiperparâmetro(s) desconhecido(s) para {type}: {unknown}; permitidos: {allowed}"),
    (r"hyperparameter " + _q("name") + r" cannot be null; (?P<t_allowed>allowed: .+)", "o hiperparâmetro {name} não pode ser nulo; {t_allowed}"),
    (r"hyperparameter " + _q("name") + r" must be a whole number; (?P<t_allowed>allowed: .+)",
     "o hiperparâmetro {name} precisa ser um número inteiro; {t_allowed}"),
    (r"hyperparameter " + _q("name") + r" must be a number; (?P<t_allowed>allowed: .+)", "o hiperparâmetro {name} precisa ser um número; {t_allowed}"),
    (r"hyperparameter " + _q("name") + r" must be finite; (?P<t_allowed>allowed: .+)", "o hiperparâmetro {name} precisa ser finito; {t_allowed}"),
    (r"hyperparameter " + _q("name") + r" is out of range; (?P<t_allowed>allowed: .+)", "o hiperparâmetro {name} está fora do intervalo; {t_allowed}"),
    (r"hyperparameter " + _q("name") + r": (?P<t_allowed>allowed: .+)", "hiperparâmetro {name}: {t_allowed}"),
    (r"allowed: a whole number from (?P<low>\S+) to (?P<high>\S+?)(?P<t_null> or null)?", "permitido: um número inteiro de {low} a {high}{t_null}"),
    (r"allowed: a number from (?P<low>\S+) to (?P<high>\S+?)(?P<t_null> or null)?", "permitido: um número de {low} a {high}{t_null}"),
    (r"allowed: one of (?P<choices>.+?)(?P<t_null> or null)?", "permitido: um de {choices}{t_null}"),
    (r" or null", " ou nulo"),
    (r"(?P<type>\S+) gives no probabilities without calibration: use sigmoid or isotonic",
     "{type} não dá probabilidades sem calibração: use sigmoid ou isotonic"),
    (r"unknown calibration (?P<value>.+); allowed: none, sigmoid, isotonic", "calibração desconhecida {value}; permitidas: none, sigmoid, isotonic"),
    (r"cv_folds must be 0 \(off\) or a whole number from 2 to (?P<max>\d+)",
     "as partições da validação cruzada devem ser 0 (desligada) ou um número inteiro de 2 a {max}"),
    (r"threshold must be a number strictly between 0 and 1, \"max_f1\" or a cost object",
     "o limiar precisa ser um número estritamente entre 0 e 1, o de melhor F1 ou o mais barato para custos"),
    (r"unknown threshold (?P<value>.+): use a number between 0 and 1, \"max_f1\" or a cost object",
     "limiar desconhecido {value}: use um número entre 0 e 1, o de melhor F1 ou o mais barato para custos"),
    (r"cost_false_negative and cost_false_positive must be non-negative numbers, not both 0",
     "os custos de um cliente perdido e de uma oferta desperdiçada precisam ser números não negativos, não ambos 0"),
    (r"activate must be \"if_better\", true or false", "a ativação precisa ser “se for melhor”, sempre ou nunca"),
    (r"column " + _q("name") + r" is not in the data set; its columns: (?P<columns>.+)",
     "a coluna {name} não está no conjunto de dados; suas colunas: {columns}"),
    (r"column " + _q("name") + r" is the (?P<role>.+?) column and cannot be a feature; "
     r"upload the data set again with column_types to change its kind",
     "a coluna {name} é a coluna {role} e não pode ser variável; envie o conjunto de novo com column_types para mudar o tipo dela"),
    (r"no feature column is left after 'features' and 'exclude'; keep at least one",
     "não sobra nenhuma variável depois das escolhas; mantenha ao menos uma"),
    (r"data set " + _q("name") + r" was stored before column profiles; upload it again to choose features",
     "o conjunto {name} foi guardado antes dos perfis de colunas; envie-o de novo para escolher variáveis"),
    (r"invalid model name " + _q("name") + r": use letters, digits, '_', '-', '\.', starting with a letter or digit",
     "nome de modelo inválido {name}: use letras, dígitos, '_', '-', '.', começando por letra ou dígito"),
    (r"data set " + _q("name") + r" not found", "conjunto de dados {name} não encontrado"),
    (r"no data set named " + _q("name"), "nenhum conjunto de dados chamado {name}"),
    # --- the promotion's reason (a job's answer)
    (r"activate was true", "a ativação era “sempre”"),
    (r"activate was false", "a ativação era “nunca”: a versão só foi registrada"),
    (r"hold-out roc_auc (?P<auc>\S+) is below the floor (?P<floor>\S+) \(CHURN_MIN_ROC_AUC\); "
     r"activate it with POST /use-model if you still want it",
     "o roc_auc no hold-out, {auc}, está abaixo do piso {floor} (CHURN_MIN_ROC_AUC); ative-a pela página da versão se ainda quiser"),
    (r"no model was active; hold-out roc_auc (?P<auc>\S+) passes the floor (?P<floor>\S+)",
     "nenhum modelo estava ativo; o roc_auc no hold-out, {auc}, passa o piso {floor}"),
    (r"the active model (?P<ref>\S+) uses other features, so the two cannot be compared on the same rows; "
     r"activate it with POST /use-model or train with activate=true",
     "o modelo ativo {ref} usa outras variáveis, então os dois não podem ser comparados nas mesmas linhas; "
     "ative-a pela página da versão ou treine com “ativar sempre”"),
    (r"the new version has no hold-out (?P<metric>\S+)", "a nova versão não tem {metric} no hold-out"),
    (r"(?P<metric>\S+) (?P<new>\S+) beats the active (?P<ref>\S+)'s (?P<old>\S+) on this hold-out",
     "{metric} {new} supera o {old} do ativo {ref} neste hold-out"),
    (r"(?P<metric>\S+) (?P<new>\S+) does not beat the active (?P<ref>\S+)'s (?P<old>\S+) on this version's hold-out; "
     r"(?P<ref2>\S+) stays active \(POST /use-model switches anyway\)",
     "{metric} {new} não supera o {old} do ativo {ref} no hold-out desta versão; {ref2} continua ativo "
     "(ativar pela página da versão troca assim mesmo)"),
    # --- the evaluation's words (version page)
    (r"cross-validation predictions on the training split", "previsões da validação cruzada na parte de treino"),
    (r"hold-out \(cross-validation was skipped\)", "hold-out (a validação cruzada foi pulada)"),
    (r"cv_folds was 0", "as partições eram 0"),
    (r"(?P<rows>\d+) training rows is above CHURN_CV_MAX_ROWS \((?P<max>\d+)\)", "{rows} linhas de treino passam de CHURN_CV_MAX_ROWS ({max})"),
    (r"too few customers of one class for two folds", "poucos clientes de uma classe para duas partições"),
    (r"impurity importance \(model-native\)", "importância por impureza (do próprio modelo)"),
    (r"\|coefficient\| on scaled inputs \(model-native\)", "|coeficiente| nas entradas padronizadas (do próprio modelo)"),
    (r"permutation importance \(drop in hold-out ROC AUC, (?P<rows>\d+) rows, (?P<repeats>\d+) repeats\)",
     "importância por permutação (queda do ROC AUC no hold-out, {rows} linhas, {repeats} repetições)"),
    # --- drift bins (version page)
    (r"(?P<low>-?[\d.e+-]+) to < (?P<high>-?[\d.e+-]+)", "{low} a < {high}"),
    (r"any value", "qualquer valor"),
    (r"\(missing\)", "(ausente)"),
    (r"\(other\)", "(outros)"),
    # --- comparing versions
    (r"the data set " + _q("name") + r" lacks (?P<n>\d+) of its features", "o conjunto {name} não tem {n} das variáveis dela"),
    (r"the data set's columns do not fit its features: (?P<which>.+)", "as colunas do conjunto não servem às variáveis dela: {which}"),
    # --- scoring a customer by hand (each problem shown at its field)
    (r"missing", "ausente"),
    (r"unknown feature for this model", "variável desconhecida para este modelo"),
    (r"expected a number, got (?P<t_type>.+)", "esperava um número, veio {t_type}"),
    (r"expected a finite number", "esperava um número finito"),
    (r"expected a string \(one of the categories\), got (?P<t_type>.+)", "esperava um texto (uma das categorias), veio {t_type}"),
    (r"expected true or false \(or (?P<values>.+)\), got (?P<t_type>.+)", "esperava verdadeiro ou falso (ou {values}), veio {t_type}"),
    (r"expected a date as a string like (?P<example>.+), got (?P<t_type>.+)", "esperava uma data como texto, por exemplo {example}, veio {t_type}"),
    (r"a boolean", "um booleano"),
    (r"a number", "um número"),
    (r"a string", "um texto"),
    (r"a list", "uma lista"),
    (r"an object", "um objeto"),
    (r"null", "nulo"),
    (r"(?P<n>\d+) problem\(s\) with the features: (?P<names>.+)", "{n} problema(s) nas variáveis: {names}"),
    # --- outcome files (version page)
    (r"churned must be true or false \(or 1/0, yes/no\)", "churned precisa ser verdadeiro ou falso (ou 1/0, yes/no)"),
    (r"observed_at (?P<value>.+) is not an ISO 8601 date or date-time, e\.g\. 2026-03-31",
     "observed_at {value} não é uma data ou data-hora ISO 8601, por exemplo 2026-03-31"),
    (r"observed_at must be an ISO 8601 date or date-time, e\.g\. 2026-03-31", "observed_at precisa ser uma data ou data-hora ISO 8601, por exemplo 2026-03-31"),
    (r"(?P<n>\d+) fields, the header has (?P<m>\d+)", "{n} campos, o cabeçalho tem {m}"),
    (r"the outcomes file needs the columns customer_id, churned, observed_at; missing: (?P<missing>.+)",
     "o arquivo de desfechos precisa das colunas customer_id, churned, observed_at; faltam: {missing}"),
    (r"the outcomes file is not UTF-8 text", "o arquivo de desfechos não é texto UTF-8"),
]

# The model types' words (churn/model_types.py), exact sentences; a test checks every type and
# hyperparameter of the catalogue has one.
PT_BR_WORDS: dict[str, str] = {
    "Linear model on scaled numbers and one-hot categories; fast, calibrated, a strong baseline for churn.":
        "Modelo linear sobre números padronizados e categorias one-hot; rápido, calibrado, uma base forte para churn.",
    "Bagged decision trees.": "Árvores de decisão em bagging.",
    "Boosted shallow regression trees (scikit-learn GradientBoostingClassifier).":
        "Árvores de regressão rasas em boosting (GradientBoostingClassifier do scikit-learn).",
    "Support vector classifier; probabilities from explicit sigmoid calibration (CalibratedClassifierCV).":
        "Classificador de vetores de suporte; probabilidades por calibração sigmoide explícita (CalibratedClassifierCV).",
    "A single decision tree; easy to explain.": "Uma única árvore de decisão; fácil de explicar.",
    "k nearest neighbours on scaled features.": "k vizinhos mais próximos sobre variáveis padronizadas.",
    "inverse regularisation strength": "inverso da força de regularização",
    "solver iterations": "iterações do otimizador",
    "'balanced' reweights classes by inverse frequency": "'balanced' repondera as classes pelo inverso da frequência",
    "number of trees": "número de árvores",
    "maximum tree depth (null: unlimited)": "profundidade máxima da árvore (nulo: sem limite)",
    "minimum rows in a leaf": "mínimo de linhas numa folha",
    "features tried per split": "variáveis testadas por divisão",
    "boosting stages": "etapas de boosting",
    "shrinkage per stage": "encolhimento por etapa",
    "depth of each tree": "profundidade de cada árvore",
    "fraction of rows per stage": "fração de linhas por etapa",
    "regularisation": "regularização",
    "kernel": "kernel",
    "kernel coefficient": "coeficiente do kernel",
    "maximum depth (null: unlimited)": "profundidade máxima (nulo: sem limite)",
    "split quality": "qualidade da divisão",
    "neighbours voting": "vizinhos que votam",
    "vote weighting": "peso dos votos",
}

EN_SENTENCES: list[tuple[str, str]] = [
    # The API's advice, said the console's way.
    (r"(?P<head>columns? .+ (?:is|are) blank in every row; remove (?:it|them) from the file), or declare (?P<them>it|them) with "
     r"column_types \{.*\} to upload the file unchanged \((?:it|they) will be left out\)",
     "{head} (through the API, column_types can declare {them} ignored instead)"),
    (r"(?P<head>hold-out roc_auc \S+ is below the floor \S+ \(CHURN_MIN_ROC_AUC\)); activate it with POST /use-model if you still want it",
     "{head}; activate it from its page if you still want it"),
    (r"(?P<head>the active model \S+ uses other features, so the two cannot be compared on the same rows); "
     r"activate it with POST /use-model or train with activate=true",
     "{head}; activate it from its page, or train with “Always activate it”"),
    (r"(?P<head>.+ on this version's hold-out; \S+ stays active) \(POST /use-model switches anyway\)",
     "{head} (activating it from its page switches anyway)"),
]


def _compile(sentences: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern, re.DOTALL), said) for pattern, said in sentences]


CATALOGUES = {"pt-BR": _compile(PT_BR_SENTENCES), "en": _compile(EN_SENTENCES)}


def known(lang: str, text: str) -> bool:
    """Whether a pattern of `lang` reads the whole of `text` (for the tests)."""
    return any(pattern.fullmatch(text) for pattern, _ in CATALOGUES.get(lang, ()))


def domain_translator(lang: str) -> Callable[[str | None], str]:
    """`said(text)`: the domain's message in the reader's language, else as it is."""
    catalogue = CATALOGUES.get(lang, [])
    words = PT_BR_WORDS if lang == "pt-BR" else {}

    def said(text: str | None) -> str:
        if not text:
            return ""
        if text in words:
            return words[text]
        for pattern, sentence in catalogue:
            found = pattern.fullmatch(text)
            if found:
                fields = {k: (said(v) if k.startswith("t_") else v) for k, v in found.groupdict(default="").items()}
                return sentence.format(**fields)
        return text

    return said
